import Foundation
import GRDB
import Synchronization

/// ozmapd's SQLite database in the state directory: the connection and every
/// migration, in one place.
public final class StateDatabase: Sendable {
    public static let fileName = "ozmapd.sqlite"

    let queue: DatabaseQueue
    /// A full pass's packed boxes not yet written to the staging table (`stageBoxes`).
    let unstaged = Mutex<[StagedBox]>([])

    /// Opens (creating and migrating) the database in `stateDirectory`.
    public init(stateDirectory: String) throws {
        let path = (stateDirectory as NSString).appendingPathComponent(Self.fileName)
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            // Debian builds SQLite to zero every page it frees: a full pass frees the last one's
            // whole box table, written again as zeros. FAST still clears deleted rows inside the
            // pages it writes; a freed page keeps its old bytes in a file only ozmapd's user can
            // read (0600), and the key is not among them (it has a file of its own).
            try db.execute(sql: "PRAGMA secure_delete = FAST")
        }
        queue = try DatabaseQueue(path: path, configuration: configuration)
        // Readable by ozmapd's user only; SQLite gives its -wal and -shm files the same mode.
        chmod(path, 0o600)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
        }
        try Self.migrator.migrate(queue)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: box cache, sync state, OLT links") { db in
            try db.create(table: BoxRecord.databaseTableName) { table in
                table.primaryKey("id", .text)
                table.column("name", .text).notNull()
                table.column("oltID", .text).notNull().indexed()
                table.column("updatedAt", .text).notNull()
                table.column("box", .jsonText).notNull()
            }
            try db.create(table: SyncStateRecord.databaseTableName) { table in
                table.primaryKey("id", .integer).check { $0 == 1 }
                table.column("state", .jsonText).notNull()
            }
            try db.create(table: OLTLinkRecord.databaseTableName) { table in
                table.primaryKey("archoltOLTID", .text)
                table.column("ozmapOLTID", .text).notNull()
                table.column("ozmapOLTName", .text).notNull()
                table.column("requireCTOOnActivation", .boolean).notNull()
                table.column("createdAt", .text).notNull()
                table.column("updatedAt", .text).notNull()
            }
        }
        migrator.registerMigration("v2: ONUs, the outbox, the audit log") { db in
            try db.create(table: ONURow.databaseTableName) { table in
                table.primaryKey("onuID", .text)
                table.column("archoltOLTID", .text).notNull().indexed()
                table.column("state", .text).notNull().indexed()
                table.column("ctoBoxID", .text).notNull().indexed()
                table.column("record", .jsonText).notNull()
            }
            try db.create(table: OperationRow.databaseTableName) { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("onuID", .text).notNull().indexed()
                table.column("state", .text).notNull().indexed()
                table.column("attempts", .integer).notNull()
                table.column("mutationsSent", .integer).notNull()
                table.column("nextAttemptAt", .text).notNull()
                table.column("record", .jsonText).notNull()
            }
            try db.create(table: AuditRow.databaseTableName) { table in
                table.autoIncrementedPrimaryKey("seq")
                table.column("onuID", .text).notNull().indexed()
                table.column("record", .jsonText).notNull()
            }
        }
        migrator.registerMigration("v3: OLT link problem") { db in
            try db.alter(table: OLTLinkRecord.databaseTableName) { table in
                table.add(column: "problem", .text).notNull().defaults(to: "")
            }
        }
        migrator.registerMigration("v4: a full pass's boxes, staged as they arrive") { db in
            try db.create(table: BoxRecord.stagingTableName) { table in
                table.column("pass", .integer).notNull()
                table.column("id", .text).notNull()
                table.column("name", .text).notNull()
                table.column("oltID", .text).notNull()
                table.column("updatedAt", .text).notNull()
                table.column("box", .jsonText).notNull()
                table.primaryKey(["pass", "id"])
            }
        }
        migrator.registerMigration("v5: cached boxes packed, not JSON") { db in
            try BoxRecord.repackJSONRows(db)
        }
        migrator.registerMigration("v6: boxes staged without an index, then renamed into place") { db in
            try BoxRecord.stageWithoutIndex(db)
        }
        return migrator
    }

    /// `PRAGMA integrity_check`: "ok" when the file is sound.
    public func integrityCheck() throws -> String {
        try queue.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "" }
    }
}
