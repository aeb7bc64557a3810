/// Reads and writes the output ports of a stored splitter
/// (`connectables.output[i]` is port `i+1`, `null` when free).
enum SplitterPorts {
    static func outputs(_ splitter: JSONObject) -> [SimulatorJSON] {
        splitter["connectables"]?["output"]?.array ?? []
    }

    /// 1-based free ports.
    static func freePorts(_ splitter: JSONObject) -> [Int] {
        outputs(splitter).enumerated().compactMap { $0.element.isNull ? $0.offset + 1 : nil }
    }

    static func isFree(_ splitter: JSONObject, port: Int) -> Bool {
        let ports = outputs(splitter)
        return ports.indices.contains(port - 1) && ports[port - 1].isNull
    }

    /// Sets port `port` (1-based) to `fiber`, or frees it with nil. Ignores ports out of range.
    static func setOutput(_ splitter: inout JSONObject, port: Int, fiber: String?) {
        guard case .object(var connectables)? = splitter["connectables"],
              case .array(var ports)? = connectables["output"],
              ports.indices.contains(port - 1)
        else { return }
        ports[port - 1] = .optionalString(fiber)
        connectables["output"] = .array(ports)
        splitter["connectables"] = .object(connectables)
    }
}
