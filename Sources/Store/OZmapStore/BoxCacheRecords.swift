import Foundation
import GRDB
import OZmapDomain

/// One cached box: the box packed (`PackedBox`), plus the columns it is looked up by.
enum BoxRecord {
    static let databaseTableName = "box"
    /// A full pass's boxes as they arrive, with the pass's number: out of sight of `loadBoxes`
    /// until the pass commits its own (a failed pass leaves the last good cache on disk, and a
    /// superseded pass's late chunk is never committed by the pass after it).
    static let stagingTableName = "boxStaging"

    /// The `box` table's columns but `box`.
    static let keyColumns = "id, name, oltID, updatedAt"

    /// Inserts these boxes, or replaces the boxes with their ids. The statement is this call's
    /// own, not GRDB's cached one: a cached statement keeps its last arguments, and the packed
    /// blob it then holds at exit reads as a leak to LeakSanitizer (its pointer sits in a Swift
    /// enum's tagged bits, `make test-asan` reported 65 bytes a statement).
    static func save(_ boxes: some Sequence<CachedBox>, _ db: Database) throws {
        let insert = try db.makeStatement(sql: "INSERT OR REPLACE INTO \(databaseTableName) (\(keyColumns), box) VALUES (?, ?, ?, ?, ?)")
        for box in boxes {
            try insert.execute(arguments: BoxRow(box).arguments)
        }
    }

    /// Migration v5: the tables again with `box` a blob, each cached box's JSON (GRDB's Codable
    /// column until then) packed; what a pass had staged is dropped (the next pass stages again).
    static func repackJSONRows(_ db: Database) throws {
        try db.drop(table: stagingTableName)
        try db.create(table: stagingTableName) { table in
            table.column("pass", .integer).notNull()
            table.column("id", .text).notNull()
            table.column("name", .text).notNull()
            table.column("oltID", .text).notNull()
            table.column("updatedAt", .text).notNull()
            table.column("box", .blob).notNull()
            table.primaryKey(["pass", "id"])
        }
        let json = "boxJSON"
        try db.rename(table: databaseTableName, to: json)
        try db.execute(sql: "DROP INDEX IF EXISTS \(databaseTableName)_on_oltID")
        try db.create(table: databaseTableName) { table in
            table.primaryKey("id", .text)
            table.column("name", .text).notNull()
            table.column("oltID", .text).notNull().indexed()
            table.column("updatedAt", .text).notNull()
            table.column("box", .blob).notNull()
        }
        let decoder = JSONDecoder()
        let boxes = try String.fetchAll(db, sql: "SELECT box FROM \(json)").map { try decoder.decode(CachedBox.self, from: Data($0.utf8)) }
        try save(boxes, db)
        try db.drop(table: json)
    }

    /// The staging table: a pass's rows appended as they arrive, without an index (with its old
    /// (pass, id) key, each 100-box chunk went into that index at 100 random places, a page
    /// written each). At commit it becomes the `box` table (`promoteStaged`), whose rows then
    /// keep their `pass` column.
    static func createStaging(_ db: Database) throws {
        try db.create(table: stagingTableName) { table in
            table.column("pass", .integer).notNull().defaults(to: 0)
            table.column("id", .text).notNull()
            table.column("name", .text).notNull()
            table.column("oltID", .text).notNull()
            table.column("updatedAt", .text).notNull()
            table.column("box", .blob).notNull()
        }
    }

    /// Pass `pass`'s staged rows become the `box` table, renamed into place, its indexes built
    /// once, sorted. Copying them row by row into the old table wrote the cache about five times
    /// over (100,000 boxes: 266 MB for a 57 MB cache; the id index took them at random places).
    static func promoteStaged(pass: Int, _ db: Database) throws {
        try db.execute(sql: "DELETE FROM \(stagingTableName) WHERE pass != ?", arguments: [pass])
        try db.drop(table: databaseTableName)
        try db.rename(table: stagingTableName, to: databaseTableName)
        do {
            try db.execute(sql: "CREATE UNIQUE INDEX \(databaseTableName)_on_id ON \(databaseTableName)(id)")
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            // A box staged twice keeps its last row.
            try db.execute(sql: """
                DELETE FROM \(databaseTableName) WHERE rowid NOT IN (SELECT max(rowid) FROM \(databaseTableName) GROUP BY id)
                """)
            try db.execute(sql: "CREATE UNIQUE INDEX \(databaseTableName)_on_id ON \(databaseTableName)(id)")
        }
        try db.execute(sql: "CREATE INDEX \(databaseTableName)_on_oltID ON \(databaseTableName)(oltID)")
        try createStaging(db)
    }

    /// Migration v6: the staging table without an index, and the boxes in a table of its shape.
    static func stageWithoutIndex(_ db: Database) throws {
        try db.drop(table: stagingTableName)
        try createStaging(db)
        try db.execute(sql: """
            INSERT INTO \(stagingTableName) (\(keyColumns), box) SELECT \(keyColumns), box FROM \(databaseTableName)
            """)
        try promoteStaged(pass: 0, db)
    }

    /// Every cached box, its repeated strings shared.
    static func fetchAll(_ db: Database) throws -> [CachedBox] {
        var pool = StringPool()
        var boxes: [CachedBox] = []
        boxes.reserveCapacity(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(databaseTableName)") ?? 0)
        let rows = try Row.fetchCursor(db, sql: "SELECT box FROM \(databaseTableName)")
        while let row = try rows.next() {
            // The blob as SQLite holds it, not copied.
            try row.withUnsafeData(atIndex: 0) { data in
                guard let data else { throw PackedBoxError("no data") }
                try data.withUnsafeBytes { boxes.append(try PackedBox.unpack($0, pool: &pool)) }
            }
        }
        return boxes
    }
}

/// A box of a full pass, packed, on its way to the staging table.
struct StagedBox: Sendable {
    /// Rows a staging commit takes: 10 chunks (about 350 KB packed).
    static let batch = 1_000

    let pass: Int
    /// No part of the box itself: the pass interns the box's strings in place as it takes the
    /// chunk in, and a box held here too had its splitters copied.
    let row: BoxRow

    init(pass: Int, box: CachedBox) {
        (self.pass, row) = (pass, BoxRow(box))
    }

    static func insert(_ rows: [StagedBox], _ db: Database) throws {
        guard !rows.isEmpty else { return }
        // Not cached: see `BoxRecord.save`.
        let insert = try db.makeStatement(sql: """
            INSERT INTO \(BoxRecord.stagingTableName) (pass, \(BoxRecord.keyColumns), box) VALUES (?, ?, ?, ?, ?, ?)
            """)
        for staged in rows {
            let pass: (any DatabaseValueConvertible)? = staged.pass
            try insert.execute(arguments: StatementArguments([pass] + staged.row.values))
        }
    }
}

/// A `box` row's values: the columns it is looked up by (`BoxRecord.keyColumns`), and the box packed.
struct BoxRow: Sendable {
    let id, name, oltID, updatedAt: String
    let packed: [UInt8]

    init(_ box: CachedBox) {
        (id, name, oltID, updatedAt) = (box.id, box.name, box.oltID, box.updatedAt)
        packed = PackedBox.pack(box)
    }

    /// As the existentials GRDB takes: built as `[Any]`, GRDB cast each value at run time, and
    /// as `[DatabaseValue]` it read each through a key path (5% of a full pass's CPU either way).
    var values: [(any DatabaseValueConvertible)?] {
        [id, name, oltID, updatedAt, Data(packed)]
    }

    var arguments: StatementArguments { StatementArguments(values) }
}

/// The single row of sync state.
struct SyncStateRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "syncState"

    var id = 1
    var state: SyncState
}

extension StateDatabase: BoxCacheStore {
    public func loadBoxes() throws -> [CachedBox] {
        try queue.read { db in try BoxRecord.fetchAll(db) }
    }

    public func loadSyncState() throws -> SyncState {
        try queue.read { db in try SyncStateRecord.fetchOne(db)?.state ?? SyncState() }
    }

    public func replaceBoxes(with boxes: [CachedBox], state: SyncState) throws {
        try queue.write { db in
            try db.execute(sql: "DELETE FROM \(BoxRecord.databaseTableName)")
            try BoxRecord.save(boxes, db)
            try SyncStateRecord(state: state).save(db)
        }
    }

    public func beginStagingBoxes() throws {
        try unstaged.withLock { waiting in
            waiting = []
            try queue.write { db in try db.execute(sql: "DELETE FROM \(BoxRecord.stagingTableName)") }
        }
    }

    /// Packs the boxes in the calling task (the fetching tasks pack at once), then writes them
    /// with those staged before, once `StagedBox.batch` wait: a commit per 100-box chunk was 2,000
    /// commits and fsyncs in a 200,000-box pass, the table's last page written again at each, 11%
    /// of ozmapd's CPU in `pwrite` and `fdatasync`. The write is made under the buffer's lock, so
    /// rows reach the table in the order they were staged (a box staged twice keeps its last row).
    /// A write that fails (its transaction rolled back) leaves every row waiting: the failure may
    /// be another pass's (a superseded one's late chunk), and the running pass must not lose them.
    public func stageBoxes(_ boxes: [CachedBox], pass: Int) throws {
        let rows = boxes.map { StagedBox(pass: pass, box: $0) }
        try unstaged.withLock { waiting in
            waiting += rows
            guard waiting.count >= StagedBox.batch else { return }
            try queue.write { db in try StagedBox.insert(waiting, db) }
            waiting = []
        }
    }

    public func commitStagedBoxes(pass: Int, upserting boxes: [CachedBox], state: SyncState) throws {
        try unstaged.withLock { waiting in
            try queue.write { db in
                try StagedBox.insert(waiting, db)
                try BoxRecord.promoteStaged(pass: pass, db)
                try BoxRecord.save(boxes, db)
                try SyncStateRecord(state: state).save(db)
            }
            waiting = []
        }
    }

    public func applyChanges(upserting boxes: [CachedBox], deleting ids: [String], state: SyncState) throws {
        try queue.write { db in
            let delete = try db.makeStatement(sql: "DELETE FROM \(BoxRecord.databaseTableName) WHERE id = ?")
            for id in ids { try delete.execute(arguments: [id]) }
            try BoxRecord.save(boxes, db)
            try SyncStateRecord(state: state).save(db)
        }
    }

    public func saveSyncState(_ state: SyncState) throws {
        try queue.write { db in try SyncStateRecord(state: state).save(db) }
    }
}
