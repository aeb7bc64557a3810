import Foundation
import OZmapAPI
import OZmapRPC

/// GetStatus and ListMethods: what ozmapd says about itself.
enum StatusHandlers {
    static func registerGetStatus(into router: inout RPCRouter, version: String, socketPath: String, stats: ServerStats) {
        let startedAt = Timestamp.format(Date())
        let started = ContinuousClock.now
        router.register(OZmapIntegration.getStatus) { _, _ in
            let snapshot = stats.snapshot
            let uptime = ContinuousClock.now - started
            return GetStatusResponse(
                version: version,
                startedAt: startedAt,
                uptimeMs: UInt64(uptime.components.seconds) * 1000 + UInt64(uptime.components.attoseconds / 1_000_000_000_000_000),
                socketPath: socketPath,
                connectionsOpen: UInt32(clamping: snapshot.connectionsOpen),
                connectionsAccepted: UInt64(snapshot.connectionsAccepted),
                callsServed: UInt64(snapshot.callsServed),
                callsInFlight: UInt32(clamping: snapshot.callsInFlight)
            )
        }
    }

    /// Registers ListMethods last, so that it knows which methods have handlers.
    static func registerListMethods(into router: inout RPCRouter, service: ServiceDescriptor) {
        var implemented = Set(router.handlers.keys)
        implemented.insert(OZmapIntegration.listMethods.name)
        let methods = service.methods.map {
            MethodInfo(name: $0.name, path: $0.path, requestType: $0.requestType, responseType: $0.responseType,
                       implemented: implemented.contains($0.name))
        }
        router.register(OZmapIntegration.listMethods) { _, _ in ListMethodsResponse(methods: methods) }
    }
}

/// RFC 3339 UTC timestamps with milliseconds, as every time on the wire is written.
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
