/// What every text field of every request must be, before any handler sees it:
/// bounded, and free of control characters — so no field can carry a megabyte
/// or a terminal escape into the logs, SQLite or OZmap. Handlers check their
/// fields further (required, shorter, formats).
public enum RequestText {
    /// Longest text field accepted, in UTF-8 bytes; the longest real one (an API URL) is far shorter.
    public static let maximumBytes = 4096

    /// What is wrong with one text field, or nil when it keeps the rules.
    public static func violation(_ text: String) -> String? {
        if text.utf8.count > maximumBytes {
            return "is \(text.utf8.count) bytes long; at most \(maximumBytes) are accepted"
        }
        if let index = text.unicodeScalars.firstIndex(where: \.isControlCharacter) {
            let position = text.unicodeScalars.distance(from: text.unicodeScalars.startIndex, to: index)
            return "contains a control character (U+\(String(text.unicodeScalars[index].value, radix: 16, uppercase: true)), at character \(position))"
        }
        return nil
    }
}

extension Unicode.Scalar {
    /// C0/C1 controls, DEL, and the invisible format and separator characters
    /// (bidi overrides, zero-width, U+2028/9) that can disguise text in a log or a UI.
    public var isControlCharacter: Bool {
        switch properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator: true
        default: false
        }
    }
}
