/// What the simulator serves: the API key it accepts and the network it generates.
public struct SimulatorConfiguration: Sendable {
    /// The one valid key; requests must carry it raw in `Authorization`.
    public var apiKey: String
    /// Number of generated OLTs.
    public var olts: Int = 2
    /// Number of generated CTO boxes connected to an OLT, spread round-robin over the OLTs.
    public var boxes: Int = 300
    /// Customer splitter ratio 1:N.
    public var splitterOutputs: Int = 8
    /// Share of customer ports already occupied by generated clients.
    public var occupiedPortRatio: Double = 0.4
    /// Seed of the deterministic generation (network, ids) and of the fault dice.
    public var seed: UInt64 = 1
    /// A JSON file describing the network instead of generating it (see docs/SIMULATOR.md).
    public var seedFile: String? = nil
    /// Cap applied to the `limit` query parameter.
    public var maxPageSize: Int = 500
    /// Extra boxes, as a share of `boxes`, whose splitters are not traced to any OLT.
    public var unconnectedBoxRatio: Double = 0.05
    /// The request log keeps at most this many entries (oldest dropped first).
    public var requestLogLimit: Int = 100_000
    /// Accept the request forms only the SDK's schemas document (reference §3.5, [S]):
    /// `POST properties` with `client` as an existing client's id, `PATCH properties` with
    /// `box`/`client`. False answers them 400, as a stricter server would. Changeable at
    /// run time (`OZmapSimulator.setSDKForms(_:)`, `POST /__sim/settings`).
    public var sdkForms: Bool = true

    public init(apiKey: String) {
        self.apiKey = apiKey
    }

    func validate() throws(SimulatorError) {
        guard !apiKey.isEmpty else { throw .invalidConfiguration("apiKey must not be empty") }
        guard olts >= 0, boxes >= 0 else { throw .invalidConfiguration("olts and boxes must not be negative") }
        guard olts > 0 || boxes == 0 else { throw .invalidConfiguration("boxes need at least one OLT") }
        guard (1...256).contains(splitterOutputs) else {
            throw .invalidConfiguration("splitterOutputs must be within 1...256")
        }
        guard (0...1).contains(occupiedPortRatio) else {
            throw .invalidConfiguration("occupiedPortRatio must be within 0...1")
        }
        guard (0...1).contains(unconnectedBoxRatio) else {
            throw .invalidConfiguration("unconnectedBoxRatio must be within 0...1")
        }
        guard maxPageSize >= 1 else { throw .invalidConfiguration("maxPageSize must be at least 1") }
        guard requestLogLimit >= 0 else { throw .invalidConfiguration("requestLogLimit must not be negative") }
    }
}
