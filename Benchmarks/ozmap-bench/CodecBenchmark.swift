// `ozmap-bench codec` (`make bench-codec`): what coding a message costs on the
// descriptor-driven path (protobuf-c struct ↔ ProtoValue tree: what `ozmapctl call` and
// `--json` read; until issue 12 every call also went on into Codable types) against the
// generated code (protobuf-c struct ↔ Swift fields), both measured in this run on the same bytes.
import ArcholtOZmapV1
import Foundation
import OZmapWire

enum CodecBenchmark {
    static func run(arguments: [String]) throws -> Bool {
        let iterations = Int(arguments.first ?? "") ?? 20_000
        var status = ArcholtOZmapV1.GetStatusResponse(
            version: "0.9.0", startedAt: "2026-12-02T05:00:00.000Z", uptimeMs: 3_600_000,
            socketPath: "/run/ozmapd/ozmapd.sock", connectionsOpen: 3, connectionsAccepted: 120, callsServed: 98_765,
            credentialsSet: true, ozmapReachable: true, nextSyncAt: "2026-12-02T05:15:00.000Z", boxCount: 20_000,
            credentialsState: "ok", operationsPending: 2, driftCheckedAt: "2026-12-02T05:00:10.000Z")
        status.lastSync = ArcholtOZmapV1.SyncReport(kind: .full, startedAt: "2026-12-02T05:00:00.000Z",
                                                    finishedAt: "2026-12-02T05:00:09.000Z", durationMs: 9_000, boxes: 20_000)
        status.ozmapRequests = ["boxes", "splitters", "ftth-clients", "properties"].map {
            ArcholtOZmapV1.OZmapRequestCount(httpMethod: "GET", route: $0, httpStatus: 200, count: 1_234)
        }
        status.drift = ArcholtOZmapV1.DriftKind.allCases.map { ArcholtOZmapV1.DriftCount(kind: $0, count: 1) }
        let page = ArcholtOZmapV1.ListBoxesResponse(boxes: (0..<100).map { index in
            ArcholtOZmapV1.Box(
                id: String(format: "5da62201493d9c0006%06x", index), name: "CTO-01-\(index)", project: "Florianópolis",
                ozmapOltId: "5da62201493d9c0006000001", slotId: "1", ponId: "3", lat: -27.5 - Double(index) / 1000,
                lng: -48.5, boxType: "CTO", implanted: true, portsTotal: 16, portsFree: 5,
                splitters: (0..<2).map { ArcholtOZmapV1.Splitter(id: "s\(index)-\($0)", name: "1x8", isDrop: $0 == 1, portsTotal: 8, portsFree: 2) },
                updatedAt: "2026-12-01T10:00:00.000Z")
        }, nextPageToken: "100", total: 20_000)

        print("ozmap-bench codec: \(iterations) rounds per figure, one message per round")
        print(String(repeating: "-", count: 100))
        try compare("GetStatusResponse", status, iterations: iterations)
        try compare("ListBoxesResponse, 100 boxes", page, iterations: max(iterations / 50, 200))
        return true
    }

    /// Times encode and decode of one message both ways, after checking both read the same bytes alike.
    static func compare<Generated: WireMessage>(_ name: String, _ message: Generated, iterations: Int) throws {
        let codec = ProtobufCCodec.ozmap
        let type = Generated.protoName
        let bytes = try message.serializedBytes()
        let oldValue = try codec.decode(bytes, as: type)
        guard try Generated(serializedBytes: codec.encode(oldValue, as: type)) == message else {
            throw CodecMismatch(message: "\(name): the two paths disagree on the bytes")
        }
        func time(_ body: () throws -> Void) rethrows -> Double {
            let start = ContinuousClock.now
            for _ in 0..<iterations { try body() }
            let elapsed = ContinuousClock.now - start
            return (Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12) / Double(iterations)
        }
        let oldEncode = try time { _ = try codec.encode(oldValue, as: type) }
        let newEncode = try time { _ = try message.serializedBytes() }
        let oldDecode = try time { _ = try codec.decode(bytes, as: type) }
        let newDecode = try time { _ = try Generated(serializedBytes: bytes) }
        func line(_ what: String, _ baseline: Double, _ generated: Double) {
            print(String(format: "%-30@ %-7@ %6d bytes  ProtoValue %9.2f µs   generated %8.2f µs   ×%.1f faster",
                         name as NSString, what as NSString, bytes.count, baseline, generated, baseline / generated))
        }
        line("encode", oldEncode, newEncode)
        line("decode", oldDecode, newDecode)
    }

    struct CodecMismatch: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}
