/// Filters of ListONUs.
public struct ONUFilter: Sendable, Hashable {
    public var archoltOLTID: String?
    public var state: ONUSyncState?
    public var ctoBoxID: String?

    public init(archoltOLTID: String? = nil, state: ONUSyncState? = nil, ctoBoxID: String? = nil) {
        self.archoltOLTID = archoltOLTID
        self.state = state
        self.ctoBoxID = ctoBoxID
    }
}

/// Where ONUs, the outbox and the audit log are kept (SQLite, in OZmapStore).
/// Every method is one transaction.
public protocol ProvisioningStore: Sendable {
    func onu(id: String) throws -> ONURecord?

    /// Reads the ONU (nil when unknown), lets `change` decide, and saves what it
    /// returns: the ONU and, optionally, an operation to queue. Queuing marks the
    /// ONU's earlier operations that never sent OZmap a write (pending, no
    /// mutation sent) as collapsed: every operation states the whole wanted
    /// outcome, so the last one wins.
    func changeONU(
        id: String,
        _ change: (ONURecord?) throws -> (onu: ONURecord, operation: OutboxOperation?)
    ) throws -> (onu: ONURecord, operation: OutboxOperation?)

    func operation(id: Int64) throws -> OutboxOperation?

    /// The ONU's newest operation, finished or not.
    func latestOperation(onuID: String) throws -> OutboxOperation?

    /// For each ONU with unfinished operations and not in `excluding`: its first
    /// unfinished operation, when due at `now`. At most `limit`, oldest first.
    func dueOperations(now: String, excluding onuIDs: Set<String>, limit: Int) throws -> [OutboxOperation]

    /// The earliest `nextAttemptAt` of an unfinished operation; nil when there is none.
    func nextAttemptTime() throws -> String?

    /// Operations left in flight by a process that stopped mid-attempt go back to
    /// pending, not due before `time`; returns how many.
    func postponeInterrupted(until time: String) throws -> Int

    /// Counts an attempt and marks the operation in flight, before OZmap is called;
    /// nil when it finished meanwhile (collapsed by a newer operation).
    func beginAttempt(id: Int64, at: String) throws -> OutboxOperation?

    /// Saves an operation's new state and updates its ONU in the same
    /// transaction; `update` may amend both, knowing whether later operations
    /// of the ONU are unfinished. Returns the operation as saved.
    @discardableResult
    func record(_ operation: OutboxOperation,
                update: (inout OutboxOperation, inout ONURecord, _ laterUnfinished: Bool) -> Void) throws -> OutboxOperation

    func appendAudit(_ entry: AuditRecord) throws

    func listONUs(_ filter: ONUFilter, afterID: String?, limit: Int) throws -> [ONURecord]
    func listOperations(onuID: String?, state: OutboxOperationState?, afterID: Int64?, limit: Int) throws -> [OutboxOperation]
    func listAudit(onuID: String?, afterSeq: Int64, limit: Int) throws -> [AuditRecord]
    func operationCounts() throws -> (pending: Int, failed: Int)
}
