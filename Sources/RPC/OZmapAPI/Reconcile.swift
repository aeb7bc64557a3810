/// `archolt.ozmap.v1.DriftKind`
public enum DriftKind: String, Codable, Sendable, Hashable, CaseIterable {
    case unspecified = "DRIFT_KIND_UNSPECIFIED"
    case missingInOzmap = "DRIFT_KIND_MISSING_IN_OZMAP"
    case atOtherBox = "DRIFT_KIND_AT_OTHER_BOX"
    case dataDiffers = "DRIFT_KIND_DATA_DIFFERS"
    case propertyWithoutClient = "DRIFT_KIND_PROPERTY_WITHOUT_CLIENT"
    case unknownToOzmapd = "DRIFT_KIND_UNKNOWN_TO_OZMAPD"
    case duplicate = "DRIFT_KIND_DUPLICATE"
}

/// `archolt.ozmap.v1.ReconcileRequest`
public struct ReconcileRequest: Codable, Sendable, Hashable {
    /// nil (absent on the wire) means a dry run.
    public var dryRun: Bool?
    public var archoltOltId: String
    public var onuId: String

    public init(dryRun: Bool? = nil, archoltOltId: String = "", onuId: String = "") {
        self.dryRun = dryRun
        self.archoltOltId = archoltOltId
        self.onuId = onuId
    }
}

/// `archolt.ozmap.v1.DriftRow`
public struct DriftRow: Codable, Sendable, Hashable {
    public var kind: DriftKind
    public var onuId: String
    public var ozmapClientId: String
    public var ozmapPropertyId: String
    public var fields: [String]
    public var ozmapdHolds: String
    public var ozmapHolds: String
    public var action: String
    public var operationId: String

    public init(kind: DriftKind, onuId: String, ozmapClientId: String, ozmapPropertyId: String, fields: [String],
                ozmapdHolds: String, ozmapHolds: String, action: String, operationId: String) {
        self.kind = kind
        self.onuId = onuId
        self.ozmapClientId = ozmapClientId
        self.ozmapPropertyId = ozmapPropertyId
        self.fields = fields
        self.ozmapdHolds = ozmapdHolds
        self.ozmapHolds = ozmapHolds
        self.action = action
        self.operationId = operationId
    }
}

/// `archolt.ozmap.v1.DriftCount`
public struct DriftCount: Codable, Sendable, Hashable {
    public var kind: DriftKind
    public var count: UInt32

    public init(kind: DriftKind, count: UInt32) {
        self.kind = kind
        self.count = count
    }
}

/// `archolt.ozmap.v1.ReconcileResponse`
public struct ReconcileResponse: Codable, Sendable, Hashable {
    public var dryRun: Bool
    public var rows: [DriftRow]
    public var counts: [DriftCount]
    public var onusChecked: UInt32
    public var ozmapRequests: UInt32
    public var operationIds: [String]
    public var checkedAt: String

    public init(dryRun: Bool, rows: [DriftRow], counts: [DriftCount], onusChecked: UInt32, ozmapRequests: UInt32,
                operationIds: [String], checkedAt: String) {
        self.dryRun = dryRun
        self.rows = rows
        self.counts = counts
        self.onusChecked = onusChecked
        self.ozmapRequests = ozmapRequests
        self.operationIds = operationIds
        self.checkedAt = checkedAt
    }
}

/// `archolt.ozmap.v1.ImportAction`
public enum ImportAction: String, Codable, Sendable, Hashable, CaseIterable {
    case unspecified = "IMPORT_ACTION_UNSPECIFIED"
    case adopt = "IMPORT_ACTION_ADOPT"
    case attach = "IMPORT_ACTION_ATTACH"
    case move = "IMPORT_ACTION_MOVE"
    case create = "IMPORT_ACTION_CREATE"
    case update = "IMPORT_ACTION_UPDATE"
    case nothing = "IMPORT_ACTION_NOTHING"
    case error = "IMPORT_ACTION_ERROR"
}

/// `archolt.ozmap.v1.ImportRow`: one ONU of the existing fleet.
public struct ImportRow: Codable, Sendable, Hashable {
    public var archoltOltId: String
    public var onuId: String
    public var serialNumber: String
    public var cto: String
    public var macAddress: String
    public var pppoeUser: String
    /// `.unspecified` and `.unchanged` leave it as OZmap has it.
    public var implanted: Implantation

    public init(archoltOltId: String, onuId: String, serialNumber: String, cto: String, macAddress: String = "",
                pppoeUser: String = "", implanted: Implantation = .unspecified) {
        self.archoltOltId = archoltOltId
        self.onuId = onuId
        self.serialNumber = serialNumber
        self.cto = cto
        self.macAddress = macAddress
        self.pppoeUser = pppoeUser
        self.implanted = implanted
    }
}

/// `archolt.ozmap.v1.ImportONUsRequest`
public struct ImportONUsRequest: Codable, Sendable, Hashable {
    /// nil (absent on the wire) means a dry run.
    public var dryRun: Bool?
    public var rows: [ImportRow]

    public init(dryRun: Bool? = nil, rows: [ImportRow]) {
        self.dryRun = dryRun
        self.rows = rows
    }
}

/// `archolt.ozmap.v1.ImportRowResult`
public struct ImportRowResult: Codable, Sendable, Hashable {
    public var row: UInt32
    public var onuId: String
    public var action: ImportAction
    public var detail: String
    public var error: String
    public var ctoBoxId: String
    public var ctoBoxName: String
    public var ozmapClientId: String
    public var operationId: String

    public init(row: UInt32, onuId: String, action: ImportAction, detail: String, error: String, ctoBoxId: String,
                ctoBoxName: String, ozmapClientId: String, operationId: String) {
        self.row = row
        self.onuId = onuId
        self.action = action
        self.detail = detail
        self.error = error
        self.ctoBoxId = ctoBoxId
        self.ctoBoxName = ctoBoxName
        self.ozmapClientId = ozmapClientId
        self.operationId = operationId
    }
}

/// `archolt.ozmap.v1.ImportActionCount`
public struct ImportActionCount: Codable, Sendable, Hashable {
    public var action: ImportAction
    public var count: UInt32

    public init(action: ImportAction, count: UInt32) {
        self.action = action
        self.count = count
    }
}

/// `archolt.ozmap.v1.ImportONUsResponse`
public struct ImportONUsResponse: Codable, Sendable, Hashable {
    public var dryRun: Bool
    public var results: [ImportRowResult]
    public var counts: [ImportActionCount]
    public var errors: UInt32
    public var ozmapRequests: UInt32

    public init(dryRun: Bool, results: [ImportRowResult], counts: [ImportActionCount], errors: UInt32, ozmapRequests: UInt32) {
        self.dryRun = dryRun
        self.results = results
        self.counts = counts
        self.errors = errors
        self.ozmapRequests = ozmapRequests
    }
}
