import Foundation
import GRDB
import OZmapDomain

/// A table of boxes: `box`, the cache; `boxStaging`, the full pass running, out of sight of
/// `loadBoxes` until the pass commits them all (a failed pass leaves the last good cache on disk).
protocol BoxTable { static var name: String { get } }
enum CachedBoxTable: BoxTable { static let name = "box" }
enum StagedBoxTable: BoxTable { static let name = "boxStaging" }

/// One box: the whole `CachedBox` as JSON, plus the columns it is looked up by.
struct BoxRow<Table: BoxTable>: Codable, FetchableRecord, PersistableRecord {
    static var databaseTableName: String { Table.name }

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

typealias BoxRecord = BoxRow<CachedBoxTable>
typealias StagedBoxRecord = BoxRow<StagedBoxTable>

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
        try queue.write { db in _ = try StagedBoxRecord.deleteAll(db) }
    }

    public func stageBoxes(_ boxes: [CachedBox]) throws {
        try queue.write { db in
            for box in boxes { try StagedBoxRecord(box).save(db) }
        }
    }

    public func commitStagedBoxes(upserting boxes: [CachedBox], state: SyncState) throws {
        try queue.write { db in
            try BoxRecord.deleteAll(db)
            try db.execute(sql: "INSERT INTO box (id, name, oltID, updatedAt, box) SELECT id, name, oltID, updatedAt, box FROM boxStaging")
            try StagedBoxRecord.deleteAll(db)
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
