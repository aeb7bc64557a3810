import Foundation
import OZmapClient
import OZmapSimulator
import OZmapTestSupport
import Synchronization
import Testing

/// A full pass's memory grows with the network by a bounded amount per box: it keeps the new
/// cache and the box ids, not the pages it read. ozmapd runs as its own process (the simulator
/// in the test's), and its peak RSS (VmHWM) after a full pass of two network sizes gives the
/// cost of a box, whatever ozmapd costs before it holds any. `make test` runs this suite by
/// itself, after the plain suite, as MemoryTests.
@Suite(.timeLimit(.minutes(3)), .serialized) struct SyncMemoryTests {
    static let sizes = (small: 2_000, large: 10_000)
    /// Measured (debug build, 2026-12-02, a full make test): 1,291 bytes a box — the cached box
    /// with its two splitters (repeated ids shared, `StringPool`), its indexes, SQLite's share and
    /// what the pass leaves in the allocator (release, `make bench-scale`: 64 MiB at 10,000 boxes,
    /// 297 MiB at 200,000, about 1,290 bytes a box between them). Before issue 14 the pass held every
    /// parsed page until its end: 1.34 GB with 100,000 boxes before any was cached (about 13 KiB a box).
    static let maximumBytesPerBox = 2 * 1024

    @Test func aFullPassCostsABoundedAmountPerBox() async throws {
        let small = try await peakAfterAFullPass(boxes: Self.sizes.small)
        let large = try await peakAfterAFullPass(boxes: Self.sizes.large)
        let perBox = (large.peak - small.peak) / max(1, large.boxes - small.boxes)
        let mib = { (bytes: Int) in String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
        print("""
            SyncMemoryTests: ozmapd peak RSS \(mib(small.peak)) after a full pass of \(small.boxes) boxes, \
            \(mib(large.peak)) of \(large.boxes): \(perBox) bytes a box (bound \(Self.maximumBytesPerBox))\
            \(runningUnderAddressSanitizer ? " under AddressSanitizer (not checked)" : "")
            """)
        #expect(large.boxes > small.boxes)
        if !runningUnderAddressSanitizer {
            #expect(perBox <= Self.maximumBytesPerBox, "a full pass costs \(perBox) bytes a box")
        }
    }

    private func peakAfterAFullPass(boxes: Int) async throws -> (boxes: Int, peak: Int) {
        let rig = try await TestRig(boxes: boxes, olts: 4)
        let (daemon, client) = try await rig.spawnDaemon()
        let report = try await rig.connect(client, timeout: .seconds(120))
        #expect(report.error.isEmpty, "\(report.error)")
        #expect(Int(report.boxes) == connectedBoxes(rig.simulator).count)
        let peak = try peakResidentBytes(daemon.process.processIdentifier)
        await client.close()
        daemon.signal(SIGTERM)
        #expect(try await daemon.exitStatus() == 0)
        try await rig.tearDown()
        return (Int(report.boxes), peak)
    }
}

/// ListBoxes read without pause during a full pass sees the old cache or the new one, never
/// part of either: the pass applies its changes under the cache's lock at once (a few), or
/// builds a new snapshot aside and swaps it in (more than `BoxSynchronizer.inPlaceChangeLimit`).
@Suite(.timeLimit(.minutes(3))) struct SyncSwapTests {
    @Test(arguments: [40, 300]) func listBoxesDuringAPassSeesTheOldCacheOrTheNewOne(deleted: Int) async throws {
        let rig = try await TestRig(boxes: 2_000, olts: 2)
        try await rig.startDaemon()
        let client = try await rig.client()
        let first = try await rig.connect(client)
        #expect(first.error.isEmpty, "\(first.error)")
        let before = Int(first.boxes)

        // The next pass finds `deleted` boxes gone and 100 new ones, named apart: any mixture of the
        // two caches shows as a total that is neither, or as some of the new names without the rest.
        let olt = try #require(try await client.rpc.listOZmapOLTs(ListOZmapOLTsRequest()).olts.first)
        for box in try await rig.allBoxes(client).prefix(deleted) { try rig.simulator.deleteBox(id: box.id) }
        for number in 0..<100 { _ = try rig.simulator.addBox(name: "NOVA-\(number)", toOLT: olt.id) }
        let after = before - deleted + 100
        // Slow enough for many reads during the pass (reads slow down as much under AddressSanitizer).
        rig.simulator.setFaults(SimulatorFaults(latencyMilliseconds: 150 * testTimeScale))

        let pass = Task { try await client.rpc.syncBoxes(SyncBoxesRequest(full: true, wait: true)).report }
        try await waitUntil("the pass is running") {
            try await client.rpc.getStatus(GetStatusRequest()).lastSync?.running == true
        }
        let reader = try await rig.client()
        let passEnded = Atomic<Bool>(false)
        let reads = Task {
            var answers: [(all: UInt32, new: UInt32)] = []
            var afterThePass = 0 // reads begun once the pass had ended: they must see the new cache
            while afterThePass < 5 {
                if passEnded.load(ordering: .acquiring) { afterThePass += 1 }
                let all = try await reader.rpc.listBoxes(ListBoxesRequest(pageSize: 1)).total
                let new = try await reader.rpc.listBoxes(ListBoxesRequest(query: "nova", pageSize: 1)).total
                answers.append((all, new))
            }
            return answers
        }
        let report = try #require(try await pass.value)
        let readsDuringPass = try await client.rpc.getStatus(GetStatusRequest()).lastSync?.running == false
        passEnded.store(true, ordering: .releasing)
        let answers = try await reads.value
        #expect(report.error.isEmpty && Int(report.boxes) == after, "\(report.error) \(report.boxes)")
        #expect(readsDuringPass)

        // Old answers, then at most one pair read across the swap (old total, new names), then new answers only.
        let old = answers.prefix { $0.all == UInt32(before) && $0.new == 0 }
        var rest = answers.dropFirst(old.count)
        if let straddle = rest.first, straddle.all == UInt32(before), straddle.new == 100 { rest = rest.dropFirst() }
        #expect(old.count >= 5, "ListBoxes was read \(old.count) times while the pass ran")
        #expect(!rest.isEmpty && rest.allSatisfy { $0.all == UInt32(after) && $0.new == 100 },
                "a partial cache, or the old one after the new: \(answers.map { "\($0.all)/\($0.new)" })")
        await reader.close()
        await client.close()
        try await rig.tearDown()
    }
}
