import Foundation
import GRDB
import OZmapDomain
@testable import OZmapStore
import OZmapTestSupport
import Testing

/// The box cache on disk: boxes packed (`PackedBox`) in a real SQLite file, read back as they
/// were written; a damaged row is an error, not a wrong box; a database of the JSON era is
/// migrated without losing a box.
@Suite struct BoxStoreTests {
    static func box(_ number: Int, name: String? = nil) -> CachedBox {
        let id = String(format: "65a1b2c3d4e5f6%010d", number)
        let time = "2026-11-\(10 + number % 18)T12:00:00.000Z"
        return CachedBox(
            id: id, name: name ?? "CTO-\(number)", project: "proj-1", oltID: "olt-\(number % 3)", slotID: "slot-1", ponID: "pon-\(number % 16)",
            lat: -23.55 + Double(number) * 1e-5, lng: -46.63, boxType: "type-cto", implanted: number % 2 == 0,
            portsTotal: 8, portsFree: 8 - number % 9,
            splitters: [
                OZmapSplitter(id: id + "p", name: "SPL-P 1:8", boxID: id, oltID: "olt-\(number % 3)", slotID: "slot-1", ponID: "pon-\(number % 16)",
                              isDrop: false, outputs: 8, freeOutputs: 7, updatedAt: time),
                OZmapSplitter(id: id + "c", name: "SPL-C 1:8", boxID: id, oltID: nil, slotID: nil, ponID: nil,
                              isDrop: true, outputs: 8, freeOutputs: 8 - number % 9, updatedAt: "2026-10-01T00:00:00.000Z"),
            ],
            updatedAt: time)
    }

    /// Boxes that exercise every field's edges: texts in other scripts, empty and optional
    /// texts, a splitter of another box, numbers negative and past 32 bits, coordinates' bits.
    static let unusual: [CachedBox] = {
        var accented = box(1, name: "Caixa Ação — Rua São João, nº 12 ＣＴＯ")
        accented.project = ""
        var odd = box(2)
        odd.splitters[0].boxID = "another-box"
        odd.splitters[1].oltID = ""
        odd.portsFree = -3
        odd.portsTotal = Int(Int32.max) * 4
        odd.lat = -0.0
        odd.lng = .greatestFiniteMagnitude
        var bare = box(3)
        bare.splitters = []
        return [accented, odd, bare, box(4)]
    }()

    @Test func aPackedBoxReadsBackAsItWasWritten() throws {
        for original in Self.unusual {
            var pool = StringPool()
            let bytes = PackedBox.pack(original)
            let unpacked = try bytes.withUnsafeBytes { try PackedBox.unpack($0, pool: &pool) }
            #expect(unpacked == original)
            #expect(unpacked.lat.bitPattern == original.lat.bitPattern)
        }
    }

    @Test func aDamagedRowIsAnErrorNotAWrongBox() throws {
        let bytes = PackedBox.pack(Self.box(7))
        var pool = StringPool()
        // Every cut short, one byte too many, another format version.
        var damaged = (0..<bytes.count).map { Array(bytes.prefix($0)) }
        damaged.append(bytes + [0])
        damaged.append([PackedBox.version + 1] + bytes.dropFirst())
        for row in damaged {
            #expect(throws: PackedBoxError.self, "\(row.count) of \(bytes.count) bytes") {
                try row.withUnsafeBytes { try PackedBox.unpack($0, pool: &pool) }
            }
        }
    }

    @Test func theStoreKeepsEveryBoxThroughARealDatabase() throws {
        let directory = try makeTemporaryDirectory(prefix: "box-store")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = try StateDatabase(stateDirectory: directory)
        let boxes = Self.unusual + (10..<300).map { Self.box($0) }
        try database.beginStagingBoxes()
        try database.stageBoxes(Array(boxes.prefix(150)), pass: 1)
        try database.stageBoxes(Array(boxes.dropFirst(150)), pass: 1)
        try database.stageBoxes([Self.box(999)], pass: 0) // a superseded pass's late chunk
        var restaged = boxes[7]
        restaged.portsFree = 1
        try database.stageBoxes([restaged], pass: 1) // staged twice: the last row counts
        var renamed = boxes[5]
        renamed.name = "renamed during the pass"
        try database.commitStagedBoxes(pass: 1, upserting: [renamed], state: SyncState(watermark: "w"))
        var expected = boxes
        expected[5] = renamed
        expected[7] = restaged
        #expect(try StateDatabase(stateDirectory: directory).loadBoxes().count == expected.count)
        #expect(Set(try StateDatabase(stateDirectory: directory).loadBoxes()) == Set(expected))

        try database.applyChanges(upserting: [Self.box(1_000)], deleting: [boxes[0].id, boxes[1].id], state: SyncState(watermark: "w2"))
        expected = Array(expected.dropFirst(2)) + [Self.box(1_000)]
        let reopened = try StateDatabase(stateDirectory: directory)
        #expect(Set(try reopened.loadBoxes()) == Set(expected))
        #expect(try reopened.loadSyncState().watermark == "w2")

        // The next full pass replaces them all, and the table it leaves still takes upserts by id.
        try database.beginStagingBoxes()
        try database.stageBoxes(Array(expected.prefix(10)), pass: 2)
        try database.commitStagedBoxes(pass: 2, upserting: [expected[3]], state: SyncState(watermark: "w3"))
        try database.applyChanges(upserting: [expected[4]], deleting: [expected[5].id], state: SyncState(watermark: "w4"))
        #expect(Set(try database.loadBoxes()) == Set(expected.prefix(10)).subtracting([expected[5]]))
        #expect(try database.loadBoxes().count == 9)
        #expect(try database.integrityCheck() == "ok")
    }

    /// Staged rows reach the table a batch at a time, in the order staged: a box staged again
    /// after its first row was written keeps the later one; what a pass left waiting is not the
    /// next pass's.
    @Test func stagedRowsAreWrittenInBatchesInTheOrderStaged() throws {
        let directory = try makeTemporaryDirectory(prefix: "box-store-batches")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = try StateDatabase(stateDirectory: directory)
        func stagedRows() throws -> Int? {
            try database.queue.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM \(BoxRecord.stagingTableName)") }
        }
        let count = StagedBox.batch * 2 + StagedBox.batch / 2
        var boxes = (0..<count).map { Self.box($0) }
        try database.beginStagingBoxes()
        for start in stride(from: 0, to: count, by: 100) {
            try database.stageBoxes(Array(boxes[start..<min(start + 100, count)]), pass: 1)
        }
        #expect(try stagedRows() == StagedBox.batch * 2)
        boxes[5].portsFree = 1
        try database.stageBoxes([boxes[5]], pass: 1)
        try database.stageBoxes([Self.box(count + 1)], pass: 0) // a superseded pass's late chunk
        try database.commitStagedBoxes(pass: 1, upserting: [], state: SyncState(watermark: "w"))
        #expect(try stagedRows() == 0)
        let loaded = try database.loadBoxes()
        #expect(loaded.count == count && Set(loaded) == Set(boxes))

        try database.beginStagingBoxes()
        try database.stageBoxes(Array(boxes.prefix(10)), pass: 2) // a pass that then fails
        try database.beginStagingBoxes()
        try database.stageBoxes([Self.box(7)], pass: 2)
        try database.commitStagedBoxes(pass: 2, upserting: [], state: SyncState(watermark: "w2"))
        #expect(try database.loadBoxes() == [Self.box(7)])
    }

    /// A batch whose write fails (here the staging table is gone for a moment) loses no row: it
    /// may be a superseded pass's late chunk that triggered it, and the running pass goes on.
    @Test func aFailedBatchWriteLeavesEveryRowWaiting() throws {
        let directory = try makeTemporaryDirectory(prefix: "box-store-failed-batch")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = try StateDatabase(stateDirectory: directory)
        let boxes = (0..<(StagedBox.batch + 100)).map { Self.box($0) }
        try database.beginStagingBoxes()
        try database.stageBoxes(Array(boxes.prefix(StagedBox.batch - 1)), pass: 1)
        try database.queue.write { try $0.drop(table: BoxRecord.stagingTableName) }
        #expect(throws: (any Error).self) { try database.stageBoxes([Self.box(99_999)], pass: 0) }
        try database.queue.write { try BoxRecord.createStaging($0) }
        try database.stageBoxes(Array(boxes.dropFirst(StagedBox.batch - 1)), pass: 1)
        try database.commitStagedBoxes(pass: 1, upserting: [], state: SyncState(watermark: "w"))
        #expect(Set(try database.loadBoxes()) == Set(boxes))
    }

    /// A state directory of ozmapd before the packed rows (schema v4, each box as GRDB's JSON)
    /// opens with every box, and the staging table packed too.
    @Test func aCacheOfTheJSONEraIsMigratedWithEveryBox() throws {
        let directory = try makeTemporaryDirectory(prefix: "box-store")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/" + StateDatabase.fileName
        let boxes = Self.unusual + (10..<60).map { Self.box($0) }
        do {
            let queue = try DatabaseQueue(path: path)
            try StateDatabase.migrator.migrate(queue, upTo: "v4: a full pass's boxes, staged as they arrive")
            let encoder = JSONEncoder()
            try queue.write { db in
                for box in boxes {
                    try db.execute(sql: "INSERT INTO box (id, name, oltID, updatedAt, box) VALUES (?, ?, ?, ?, ?)", arguments: [
                        box.id, box.name, box.oltID, box.updatedAt, String(decoding: try encoder.encode(box), as: UTF8.self),
                    ])
                }
                try db.execute(sql: "INSERT INTO boxStaging (pass, id, name, oltID, updatedAt, box) VALUES (1, 'x', 'x', 'x', 'x', '{}')")
            }
        }
        let database = try StateDatabase(stateDirectory: directory)
        #expect(try database.loadBoxes().sorted { $0.id < $1.id } == boxes.sorted { $0.id < $1.id })
        #expect(try database.integrityCheck() == "ok")
        try database.stageBoxes([Self.box(5)], pass: 2)
        try database.commitStagedBoxes(pass: 2, upserting: [], state: SyncState())
        #expect(try database.loadBoxes() == [Self.box(5)])
    }
}
