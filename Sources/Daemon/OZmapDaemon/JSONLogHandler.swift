import Foundation
import Logging
import OZmapDomain
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

    /// One line, newline included.
    static func line(time: Date, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata) -> String {
        var text = "{\"time\":"
        appendString(Timestamp.format(time), to: &text)
        text += ",\"level\":"
        appendString(level.rawValue, to: &text)
        text += ",\"label\":"
        appendString(label, to: &text)
        text += ",\"message\":"
        appendString(message, to: &text)
        for key in metadata.keys.sorted() {
            text += ","
            appendString(reserved.contains(key) ? "metadata.\(key)" : key, to: &text)
            text += ":"
            appendValue(metadata[key]!, to: &text)
        }
        text += "}\n"
        return text
    }

    private static func appendValue(_ value: Logger.Metadata.Value, to text: inout String) {
        switch value {
        case .string(let string): appendString(string, to: &text)
        case .stringConvertible(let convertible): appendString(convertible.description, to: &text)
        case .array(let values):
            text += "["
            for (index, element) in values.enumerated() {
                if index > 0 { text += "," }
                appendValue(element, to: &text)
            }
            text += "]"
        case .dictionary(let dictionary):
            text += "{"
            for (index, key) in dictionary.keys.sorted().enumerated() {
                if index > 0 { text += "," }
                appendString(key, to: &text)
                text += ":"
                appendValue(dictionary[key]!, to: &text)
            }
            text += "}"
        }
    }

    /// A JSON string: quotes, backslashes and every control character escaped, so a line is one line.
    private static func appendString(_ string: String, to text: inout String) {
        text += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case _ where scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}":
                text += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: text.unicodeScalars.append(scalar)
            }
        }
        text += "\""
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
