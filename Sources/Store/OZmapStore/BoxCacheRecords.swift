import Foundation
import GRDB
import OZmapDomain

/// One cached box: the whole `CachedBox` as JSON, plus the columns it is looked up by.
struct BoxRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "box"
    /// A full pass's boxes as they arrive, with the pass's number: out of sight of `loadBoxes`
    /// until the pass commits its own (a failed pass leaves the last good cache on disk, and a
    /// superseded pass's late chunk is never committed by the pass after it).
    static let stagingTableName = "boxStaging"

    var id: String
    var name: String
    var oltID: String
    var updatedAt: String
    var box: CachedBox

    init(_ box: CachedBox) {
        id = box.id
        name = box.name
        oltID = box.oltID
        updatedAt = box.updatedAt
        self.box = box
    }
}

/// The single row of sync state.
struct SyncStateRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "syncState"

    var id = 1
    var state: SyncState
}

extension StateDatabase: BoxCacheStore {
    public func loadBoxes() throws -> [CachedBox] {
        var pool = StringPool()
        return try queue.read { db in try BoxRecord.fetchAll(db) }.map { pool.intern($0.box) }
    }

    public func loadSyncState() throws -> SyncState {
        try queue.read { db in try SyncStateRecord.fetchOne(db)?.state ?? SyncState() }
    }

    public func replaceBoxes(with boxes: [CachedBox], state: SyncState) throws {
        try queue.write { db in
            try BoxRecord.deleteAll(db)
            for box in boxes { try BoxRecord(box).insert(db) }
            try SyncStateRecord(state: state).save(db)
        }
    }

    public func beginStagingBoxes() throws {
        try queue.write { db in try db.execute(sql: "DELETE FROM \(BoxRecord.stagingTableName)") }
    }

    public func stageBoxes(_ boxes: [CachedBox], pass: Int) throws {
        // The columns as the box table has them (GRDB's JSON for `box`), encoded before the write lock.
        let rows = try boxes.map { try BoxRecord($0).databaseDictionary }
        try queue.write { db in
            for row in rows {
                try db.execute(sql: """
                    INSERT OR REPLACE INTO \(BoxRecord.stagingTableName) (pass, id, name, oltID, updatedAt, box) VALUES (?, ?, ?, ?, ?, ?)
                    """, arguments: [pass, row["id"], row["name"], row["oltID"], row["updatedAt"], row["box"]])
            }
        }
    }

    public func commitStagedBoxes(pass: Int, upserting boxes: [CachedBox], state: SyncState) throws {
        try queue.write { db in
            try BoxRecord.deleteAll(db)
            try db.execute(sql: """
                INSERT INTO box (id, name, oltID, updatedAt, box)
                SELECT id, name, oltID, updatedAt, box FROM \(BoxRecord.stagingTableName) WHERE pass = ?
                """, arguments: [pass])
            try db.execute(sql: "DELETE FROM \(BoxRecord.stagingTableName)")
            for box in boxes { try BoxRecord(box).save(db) }
            try SyncStateRecord(state: state).save(db)
        }
    }

    public func applyChanges(upserting boxes: [CachedBox], deleting ids: [String], state: SyncState) throws {
        try queue.write { db in
            _ = try BoxRecord.deleteAll(db, keys: ids)
            for box in boxes { try BoxRecord(box).save(db) }
            try SyncStateRecord(state: state).save(db)
        }
    }

    public func saveSyncState(_ state: SyncState) throws {
        try queue.write { db in try SyncStateRecord(state: state).save(db) }
    }
}
