import Foundation
import Logging
import OZmapDomain
import OZmapRPC
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How ozmapd writes its log lines (`log_format`).
public enum LogFormat: String, Sendable, CaseIterable {
    /// swift-log's plain lines.
    case text
    /// One JSON object per line (`JSONLogHandler`).
    case json
}

/// Log lines as one JSON object each, for journald and log shippers:
/// `{"time":"2026-12-02T01:40:00.123Z","level":"info","label":"ozmapd","message":"…","state_dir":"/var/lib/ozmapd"}`.
/// The metadata are fields of the object; one whose name is taken by the four above is
/// written as `metadata.<name>`. Nothing else is added, so the key never appears unless a
/// message carries it, and no message does (the key is a `Secret`).
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let output: @Sendable (String) -> Void

    /// `write` gets each line with its newline (standard error unless given).
    public init(label: String, metadataProvider: Logger.MetadataProvider? = nil,
                write: @escaping @Sendable (String) -> Void = JSONLogHandler.standardError) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.output = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let own = event.metadata { merged.merge(own) { $1 } }
        output(Self.line(time: Date(), level: event.level, label: label, message: event.message.description, metadata: merged))
    }

    private static let reserved: Set<String> = ["time", "level", "label", "message"]

    /// One line, newline included: written by `ProtoJSON`, the project's one JSON writer.
    static func line(time: Date, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata) -> String {
        var fields = [
            ProtoMessage.Field(name: "time", value: .string(Timestamp.format(time))),
            ProtoMessage.Field(name: "level", value: .string(level.rawValue)),
            ProtoMessage.Field(name: "label", value: .string(label)),
            ProtoMessage.Field(name: "message", value: .string(message)),
        ]
        for key in metadata.keys.sorted() {
            fields.append(.init(name: reserved.contains(key) ? "metadata.\(key)" : key, value: value(metadata[key]!)))
        }
        return ProtoJSON.render(.message(ProtoMessage(fields)), pretty: false) + "\n"
    }

    private static func value(_ value: Logger.Metadata.Value) -> ProtoValue {
        switch value {
        case .string(let string): .string(string)
        case .stringConvertible(let convertible): .string(convertible.description)
        case .array(let values): .list(values.map(Self.value))
        case .dictionary(let dictionary):
            .message(ProtoMessage(dictionary.keys.sorted().map { ProtoMessage.Field(name: $0, value: Self.value(dictionary[$0]!)) }))
        }
    }

    private static let outputLock = Mutex(())

    /// Writes a line to standard error in one `write`, so lines of concurrent threads never interleave.
    public static let standardError: @Sendable (String) -> Void = { line in
        outputLock.withLock { _ in
            let bytes = Array(line.utf8)
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { buffer in
                    write(STDERR_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
                }
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}
