import GRDB
import OZmapDomain

extension StateDatabase {
    /// When the oldest unfinished (pending or in flight) operation was queued; nil when none is.
    /// Ids increase with queuing, so the lowest unfinished id is the oldest (the metrics' outbox age).
    public func oldestUnfinishedOperationQueuedAt() throws -> String? {
        try queue.read { db in
            try OperationRow.filter(OperationRow.unfinished).order(Column("id")).fetchOne(db)?.record.createdAt
        }
    }
}
