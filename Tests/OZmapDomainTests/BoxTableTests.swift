import OZmapDomain
import Testing

/// `BoxTable` answers as a dictionary of boxes by id would, through any mix of adds,
/// replacements and removals (a removal moves the last box into the hole).
@Suite struct BoxTableTests {
    static func box(_ id: String, name: String) -> CachedBox {
        CachedBox(id: id, name: name, project: "p", oltID: "o", slotID: "s", ponID: "n", lat: 0, lng: 0, boxType: "t",
                  implanted: true, portsTotal: 8, portsFree: 8, splitters: [], updatedAt: "2026-12-01T00:00:00.000Z")
    }

    @Test func itAnswersAsADictionaryWould() {
        var table = BoxTable()
        var model: [String: CachedBox] = [:]
        var generator = SystemRandomNumberGenerator()
        for step in 0..<5_000 {
            let id = "b\(Int.random(in: 0..<60, using: &generator))"
            if Bool.random(using: &generator) {
                table[id] = Self.box(id, name: "N-\(step % 7)")
                model[id] = Self.box(id, name: "N-\(step % 7)")
            } else {
                table[id] = nil
                model[id] = nil
            }
            #expect(table.count == model.count && table.isEmpty == model.isEmpty)
            #expect(table[id] == model[id])
            #expect(table.normalizedName(ofID: id) == model[id].map { CachedBox.normalize($0.name) })
        }
        #expect(Set(table.values) == Set(model.values))
        for (id, box) in model { #expect(table[id] == box && table.normalizedName(ofID: id) == CachedBox.normalize(box.name)) }
        #expect(table["never"] == nil)
    }
}
