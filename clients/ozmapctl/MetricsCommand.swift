import ArcholtOZmapV1
import ArgumentParser
import OZmapRPC

/// `ozmapctl metrics`: what a Prometheus scrape of `metrics_listen` reads, over the socket.
struct MetricsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Print ozmapd's metrics as Prometheus text (the GetMetrics call).",
        discussion: "The same text GET /metrics serves when metrics_listen is set (docs/OPERATIONS.md, Metrics)."
    )

    @OptionGroup var options: ConnectionOptions

    func run() async throws {
        let response = try await options.call { try await $0.getMetrics(GetMetricsRequest(), options: $1) }
        if options.json { return try printJSON(response) }
        print(response.prometheusText, terminator: response.prometheusText.hasSuffix("\n") ? "" : "\n")
    }
}
