import GRDB
import OZmapDomain

struct OLTLinkRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "oltLink"

    var archoltOLTID: String
    var ozmapOLTID: String
    var ozmapOLTName: String
    var requireCTOOnActivation: Bool
    var createdAt: String
    var updatedAt: String
    var problem: String

    init(_ link: LinkedOLT) {
        archoltOLTID = link.archoltOLTID
        ozmapOLTID = link.ozmapOLTID
        ozmapOLTName = link.ozmapOLTName
        requireCTOOnActivation = link.requireCTOOnActivation
        createdAt = link.createdAt
        updatedAt = link.updatedAt
        problem = link.problem
    }

    var link: LinkedOLT {
        LinkedOLT(archoltOLTID: archoltOLTID, ozmapOLTID: ozmapOLTID, ozmapOLTName: ozmapOLTName,
                requireCTOOnActivation: requireCTOOnActivation, createdAt: createdAt, updatedAt: updatedAt, problem: problem)
    }
}

extension StateDatabase: OLTLinkStore {
    public func allLinks() throws -> [LinkedOLT] {
        try queue.read { db in try OLTLinkRecord.order(Column("archoltOLTID")).fetchAll(db).map(\.link) }
    }

    public func link(archoltOLTID: String) throws -> LinkedOLT? {
        try queue.read { db in try OLTLinkRecord.fetchOne(db, key: archoltOLTID)?.link }
    }

    public func saveLink(_ link: LinkedOLT) throws {
        try queue.write { db in try OLTLinkRecord(link).save(db) }
    }

    public func deleteLink(archoltOLTID: String) throws -> LinkedOLT? {
        try queue.write { db in
            let existing = try OLTLinkRecord.fetchOne(db, key: archoltOLTID)
            if existing != nil { _ = try OLTLinkRecord.deleteOne(db, key: archoltOLTID) }
            return existing?.link
        }
    }
}
