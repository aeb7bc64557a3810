import GRDB
import OZmapDomain

/// An ONU: the columns it is filtered by, and the whole record as JSON.
struct ONURow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "onu"

    var onuID: String
    var archoltOLTID: String
    var state: String
    var ctoBoxID: String
    var record: ONURecord

    init(_ onu: ONURecord) {
        onuID = onu.onuID
        archoltOLTID = onu.archoltOLTID
        state = onu.state.rawValue
        ctoBoxID = onu.ctoBoxID
        record = onu
    }
}

/// An outbox operation; `id` orders the operations of an ONU.
struct OperationRow: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "operation"

    var id: Int64?
    var onuID: String
    var state: String
    var attempts: Int
    var mutationsSent: Int
    var nextAttemptAt: String
    var record: OutboxOperation

    init(_ operation: OutboxOperation) {
        id = operation.id == 0 ? nil : operation.id
        onuID = operation.onuID
        state = operation.state.rawValue
        attempts = operation.attempts
        mutationsSent = operation.mutationsSent
        nextAttemptAt = operation.nextAttemptAt
        record = operation
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
        record.id = inserted.rowID
    }

    /// The operation, with the id the database gave it (the JSON was written before the id existed).
    var operation: OutboxOperation {
        var operation = record
        operation.id = id ?? operation.id
        return operation
    }

    /// Operations not yet done, failed or collapsed.
    static let unfinished = Column("state") == OutboxOperationState.pending.rawValue || Column("state") == OutboxOperationState.inFlight.rawValue
}

struct AuditRow: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "audit"

    var seq: Int64?
    var onuID: String
    var record: AuditRecord

    mutating func didInsert(_ inserted: InsertionSuccess) {
        seq = inserted.rowID
    }
}

extension StateDatabase: ProvisioningStore {
    public func onu(id: String) throws -> ONURecord? {
        try queue.read { db in try ONURow.fetchOne(db, key: id)?.record }
    }

    public func changeONU(
        id: String,
        _ change: (ONURecord?) throws -> (onu: ONURecord, operation: OutboxOperation?)
    ) throws -> (onu: ONURecord, operation: OutboxOperation?) {
        try queue.write { db in
            let (onu, operation) = try change(try ONURow.fetchOne(db, key: id)?.record)
            try ONURow(onu).save(db)
            guard let operation else { return (onu, nil) }
            // Earlier operations that never sent OZmap a write are superseded: the last one states the wanted outcome.
            for var row in try OperationRow.filter(Column("onuID") == id && Column("state") == OutboxOperationState.pending.rawValue
                                                   && Column("mutationsSent") == 0).fetchAll(db) {
                row.state = OutboxOperationState.collapsed.rawValue
                row.record.state = .collapsed
                row.record.updatedAt = operation.createdAt
                try row.update(db)
            }
            var row = OperationRow(operation)
            try row.insert(db)
            return (onu, row.operation)
        }
    }

    public func operation(id: Int64) throws -> OutboxOperation? {
        try queue.read { db in try OperationRow.fetchOne(db, key: id)?.operation }
    }

    public func latestOperation(onuID: String) throws -> OutboxOperation? {
        try queue.read { db in
            try OperationRow.filter(Column("onuID") == onuID).order(Column("id").desc).fetchOne(db)?.operation
        }
    }

    public func dueOperations(now: String, excluding onuIDs: Set<String>, limit: Int) throws -> [OutboxOperation] {
        try queue.read { db in
            // The first unfinished operation of each ONU, if it is due. The exclusion and the limit are
            // SQL's: with thousands queued (an import), decoding every due row on each poll made the
            // outbox quadratic.
            let excluded = onuIDs.sorted()
            let notIn = excluded.isEmpty ? "" : " AND onuID NOT IN (" + excluded.map { _ in "?" }.joined(separator: ",") + ")"
            var arguments: [any DatabaseValueConvertible] = [OutboxOperationState.pending.rawValue, OutboxOperationState.inFlight.rawValue, now]
            arguments += excluded
            arguments.append(limit)
            let firsts = try OperationRow.fetchAll(db, sql: """
                SELECT * FROM operation WHERE id IN (
                    SELECT MIN(id) FROM operation WHERE state IN (?, ?) GROUP BY onuID
                ) AND nextAttemptAt <= ?\(notIn) ORDER BY id LIMIT ?
                """, arguments: StatementArguments(arguments))
            return firsts.map(\.operation)
        }
    }

    public func nextAttemptTime() throws -> String? {
        try queue.read { db in
            try String.fetchOne(db, sql: "SELECT MIN(nextAttemptAt) FROM operation WHERE state IN (?, ?)",
                                arguments: [OutboxOperationState.pending.rawValue, OutboxOperationState.inFlight.rawValue])
        }
    }

    public func postponeInterrupted(until time: String) throws -> Int {
        try queue.write { db in
            try db.execute(sql: """
                UPDATE operation SET state = ?, nextAttemptAt = MAX(nextAttemptAt, ?) WHERE state = ?
                """, arguments: [OutboxOperationState.pending.rawValue, time, OutboxOperationState.inFlight.rawValue])
            return db.changesCount
        }
    }

    public func beginAttempt(id: Int64, at time: String) throws -> OutboxOperation? {
        try queue.write { db in
            guard var row = try OperationRow.fetchOne(db, key: id), !row.record.state.isFinished else { return nil }
            row.attempts += 1
            row.state = OutboxOperationState.inFlight.rawValue
            row.record.attempts = row.attempts
            row.record.state = .inFlight
            row.record.updatedAt = time
            row.record.id = id
            try row.update(db)
            return row.operation
        }
    }

    @discardableResult
    public func record(_ operation: OutboxOperation,
                       update: (inout OutboxOperation, inout ONURecord, Bool) -> Void) throws -> OutboxOperation {
        try queue.write { db in
            var operation = operation
            let later = try OperationRow.filter(Column("onuID") == operation.onuID && Column("id") > operation.id
                                                && OperationRow.unfinished).fetchCount(db) > 0
            var onu = try ONURow.fetchOne(db, key: operation.onuID)?.record
                ?? ONURecord(onuID: operation.onuID, archoltOLTID: "", serialNumber: "", macAddress: "", pppoeUser: "",
                             implanted: false, state: .pending, createdAt: operation.createdAt, updatedAt: operation.updatedAt)
            update(&operation, &onu, later)
            onu.updatedAt = operation.updatedAt
            try OperationRow(operation).update(db)
            try ONURow(onu).save(db)
            return operation
        }
    }

    public func appendAudit(_ entry: AuditRecord) throws {
        try queue.write { db in
            var row = AuditRow(seq: nil, onuID: entry.onuID, record: entry)
            try row.insert(db)
        }
    }

    public func listONUs(_ filter: ONUFilter, afterID: String?, limit: Int) throws -> [ONURecord] {
        try queue.read { db in
            var request = ONURow.order(Column("onuID"))
            if let olt = filter.archoltOLTID { request = request.filter(Column("archoltOLTID") == olt) }
            if let state = filter.state { request = request.filter(Column("state") == state.rawValue) }
            if let box = filter.ctoBoxID { request = request.filter(Column("ctoBoxID") == box) }
            if let afterID { request = request.filter(Column("onuID") > afterID) }
            return try request.limit(limit).fetchAll(db).map(\.record)
        }
    }

    public func listOperations(onuID: String?, state: OutboxOperationState?, afterID: Int64?, limit: Int) throws -> [OutboxOperation] {
        try queue.read { db in
            var request = OperationRow.order(Column("id"))
            if let onuID { request = request.filter(Column("onuID") == onuID) }
            if let state { request = request.filter(Column("state") == state.rawValue) }
            if let afterID { request = request.filter(Column("id") > afterID) }
            return try request.limit(limit).fetchAll(db).map(\.operation)
        }
    }

    public func listAudit(onuID: String?, afterSeq: Int64, limit: Int) throws -> [AuditRecord] {
        try queue.read { db in
            var request = AuditRow.filter(Column("seq") > afterSeq).order(Column("seq"))
            if let onuID { request = request.filter(Column("onuID") == onuID) }
            return try request.limit(limit).fetchAll(db).map { row in
                var entry = row.record
                entry.seq = row.seq ?? 0
                return entry
            }
        }
    }

    public func operationCounts() throws -> (pending: Int, failed: Int) {
        // Every GetStatus asks: one cached statement (both counts on the state index) instead of
        // two queries generated and parsed on each call, which were a sixth of its cost (make bench).
        try queue.read { db in
            let counts = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT (SELECT COUNT(*) FROM operation WHERE state IN (?, ?)),
                       (SELECT COUNT(*) FROM operation WHERE state = ?)
                """), arguments: [OutboxOperationState.pending.rawValue, OutboxOperationState.inFlight.rawValue,
                                  OutboxOperationState.failed.rawValue])
            return (counts?[0] ?? 0, counts?[1] ?? 0)
        }
    }
}

extension StateDatabase: OutboxHoldStore {
    @discardableResult
    public func holdPendingOperations(lastError: String) throws -> Int {
        try queue.write { db in
            var count = 0
            for var row in try OperationRow.filter(Column("state") == OutboxOperationState.pending.rawValue).fetchAll(db) {
                guard row.record.lastError != lastError else { continue }
                row.record.lastError = lastError
                try row.update(db)
                count += 1
            }
            return count
        }
    }
}
