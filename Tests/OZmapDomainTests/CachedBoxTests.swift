import OZmapDomain
import Testing

/// A box's cache entry made from OZmap's box and splitters, as a full pass makes it of every box.
@Suite struct CachedBoxTests {
    static func splitter(_ id: String, _ name: String, drop: Bool, olt: String? = nil, outputs: Int = 8, free: Int = 0,
                         updatedAt: String = "2026-01-01T00:00:00.000Z") -> OZmapSplitter {
        OZmapSplitter(id: id, name: name, boxID: "b1", oltID: olt, slotID: olt.map { _ in "slot-\(id)" }, ponID: olt.map { _ in "pon-\(id)" },
                      isDrop: drop, outputs: outputs, freeOutputs: free, updatedAt: updatedAt)
    }

    static let info = OZmapBoxInfo(id: "b1", name: "CTO-01", project: "p1", lat: -23.5, lng: -46.6, boxType: "CTO",
                                   implanted: true, updatedAt: "2026-02-01T00:00:00.000Z")

    @Test func primariesComeFirstAndNameTheWiringPortsAreTheCustomerSplitters() throws {
        let box = try #require(CachedBox(box: Self.info, splitters: [
            Self.splitter("d2", "B drop", drop: true, olt: "o1", outputs: 16, free: 5, updatedAt: "2026-03-01T00:00:00.000Z"),
            Self.splitter("p2", "primary", drop: false, olt: "o2"),
            Self.splitter("d1", "A drop", drop: true, outputs: 8, free: 8),
            Self.splitter("p1", "primary", drop: false, olt: "o1"),
            Self.splitter("p0", "a primary", drop: false),
        ]))
        // Primaries before customer splitters, then by name, then by id.
        #expect(box.splitters.map(\.id) == ["p0", "p1", "p2", "d1", "d2"])
        // The first splitter in that order that is traced to an OLT names the wiring.
        #expect((box.oltID, box.slotID, box.ponID) == ("o1", "slot-p1", "pon-p1"))
        // Only customer splitters' outputs are ports.
        #expect((box.portsTotal, box.portsFree) == (24, 13))
        // The newest change of the box and its splitters.
        #expect(box.updatedAt == "2026-03-01T00:00:00.000Z")
        #expect((box.id, box.name, box.project, box.implanted) == ("b1", "CTO-01", "p1", true))
    }

    @Test func aBoxNoSplitterTiesToAnOLTIsNoCacheEntry() {
        #expect(CachedBox(box: Self.info, splitters: []) == nil)
        #expect(CachedBox(box: Self.info, splitters: [Self.splitter("d1", "drop", drop: true, olt: "")]) == nil)
        let onlyBox = CachedBox(box: Self.info, splitters: [Self.splitter("p1", "primary", drop: false, olt: "o1", updatedAt: "2025-01-01T00:00:00.000Z")])
        #expect(onlyBox?.updatedAt == Self.info.updatedAt, "the box is newer than its splitter")
    }
}
