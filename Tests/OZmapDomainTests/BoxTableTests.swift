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

/// `StringPool`: what it hands back equals what it was given, and a long string met again is
/// the pool's one copy, whether its check by last bytes hits, misses or collides.
@Suite struct StringPoolTests {
    private static func storage(_ text: String) -> UnsafeRawPointer? {
        var text = text
        return text.withUTF8 { UnsafeRawPointer($0.baseAddress) }
    }

    @Test func aLongStringMetAgainIsThePoolsCopy() {
        var pool = StringPool()
        // 24-character ids as OZmap's; many share their last two bytes, so the recent slots collide.
        let ids = (0..<300).map { index in String(format: "65a1b2c3d4e5f6a7b8c9%04x", index % 97 * 257) }
        var first: [String: UnsafeRawPointer?] = [:]
        for round in 0..<3 {
            for id in ids.shuffled() {
                let copy = String(decoding: Array(id.utf8), as: UTF8.self) // new storage each time
                let interned = pool.intern(copy)
                #expect(interned == id)
                if let pointer = first[id] {
                    #expect(Self.storage(interned) == pointer, "round \(round): \(id) is not the pool's copy")
                } else {
                    first[id] = Self.storage(interned)
                }
            }
        }
        #expect(pool.intern("short") == "short")
    }

    /// A box interned (consumed, its splitters changed in place) equals the box given, and the
    /// ids it repeats with another box are the pool's one copy, in its splitters too.
    @Test func aBoxInternedIsTheSameBoxWithItsRepeatedIdsShared() throws {
        func fresh(_ text: String) -> String { String(decoding: Array(text.utf8), as: UTF8.self) }
        func box(_ id: String) throws -> CachedBox {
            let info = OZmapBoxInfo(id: fresh(id), name: "CTO-\(id.suffix(3))", project: fresh("65a1b2c3d4e5f6a7b8c9project"),
                                    lat: -27.5, lng: -48.5, boxType: fresh("65a1b2c3d4e5f6a7b8c9boxtype"), implanted: true,
                                    updatedAt: "2026-02-01T00:00:00.000Z")
            return try #require(CachedBox(box: info, splitters: ["primary", "drop"].map { name in
                OZmapSplitter(id: fresh(id + name), name: name, boxID: fresh(id), oltID: fresh("65a1b2c3d4e5f6a7b8c9aolt1"),
                              slotID: fresh("65a1b2c3d4e5f6a7b8c9slot1"), ponID: fresh("65a1b2c3d4e5f6a7b8c9apon1"),
                              isDrop: name == "drop", outputs: 8, freeOutputs: 3, updatedAt: "2026-01-01T00:00:00.000Z")
            }))
        }
        var pool = StringPool()
        let (first, second) = (try box("65a1b2c3d4e5f6a7b8c9b001"), try box("65a1b2c3d4e5f6a7b8c9b002"))
        let (internedFirst, internedSecond) = (pool.intern(first), pool.intern(second))
        #expect(internedFirst == first && internedSecond == second)
        #expect(Self.storage(internedSecond.oltID) == Self.storage(internedFirst.oltID))
        for splitter in internedSecond.splitters {
            #expect(Self.storage(try #require(splitter.ponID)) == Self.storage(internedFirst.ponID))
            #expect(Self.storage(splitter.boxID) == Self.storage(internedSecond.id), "a splitter's box id is its box's own string")
        }
    }
}
