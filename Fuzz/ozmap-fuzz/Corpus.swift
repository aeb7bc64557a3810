import Foundation
import ArcholtOZmapV1
import OZmapRPC
import OZmapWire

// The seed corpus (Fuzz/corpus): valid calls of every method, and the broken
// shapes a hostile or buggy client sends. Regenerate with
// `ozmap-fuzz --write-corpus Fuzz/corpus` after a change to the protocol.

/// Writes the seeds into `directory`; the exit status.
func writeCorpus(to directory: String) -> Int32 {
    do {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let seeds = try corpusSeeds()
        for (name, bytes) in seeds {
            fuzzOne(bytes) // a seed that breaks an invariant is a bug to fix before committing it
            try Data(bytes).write(to: URL(fileURLWithPath: directory).appendingPathComponent(name))
        }
        print("wrote \(seeds.count) seeds to \(directory)")
        return 0
    } catch {
        print("cannot write the corpus: \(error)")
        return 1
    }
}

func corpusSeeds() throws -> [(String, [UInt8])] {
    let service = OZmapIntegration.descriptor.fullyQualifiedService
    func call<Method: WireMethod>(_ method: Method.Type, _ request: Method.Input, id: UInt64 = 1) throws -> [UInt8] {
        try envelope(id: id, path: Method.path, payload: request.serializedBytes())
    }
    func envelope(id: UInt64 = 1, path: String, payload: [UInt8] = []) throws -> [UInt8] {
        try frame(RequestEnvelope(callId: id, method: path, timeoutMs: 5000, payload: payload).serializedBytes())
    }
    let getONU = OZmapIntegration.Method.GetONU.path
    let listONUs = OZmapIntegration.Method.ListONUs.path

    var seeds: [(String, [UInt8])] = [
        ("valid-GetStatus", try call(OZmapIntegration.Method.GetStatus.self, GetStatusRequest())),
        ("valid-ListMethods", try call(OZmapIntegration.Method.ListMethods.self, ListMethodsRequest())),
        ("valid-SetCredentials", try call(OZmapIntegration.Method.SetCredentials.self, SetCredentialsRequest(apiUrl: "https://ozmap.example/api/v2", apiKey: "k-123"))),
        ("valid-GetCredentials", try call(OZmapIntegration.Method.GetCredentials.self, GetCredentialsRequest())),
        ("valid-ListOZmapOLTs", try call(OZmapIntegration.Method.ListOZmapOLTs.self, ListOZmapOLTsRequest())),
        ("valid-LinkOLT", try call(OZmapIntegration.Method.LinkOLT.self, LinkOLTRequest(archoltOltId: "olt-1", ozmapOltId: "5f1e", requireCtoOnActivation: true))),
        ("valid-UnlinkOLT", try call(OZmapIntegration.Method.UnlinkOLT.self, UnlinkOLTRequest(archoltOltId: "olt-1"))),
        ("valid-ListOLTLinks", try call(OZmapIntegration.Method.ListOLTLinks.self, ListOLTLinksRequest())),
        ("valid-SyncBoxes", try call(OZmapIntegration.Method.SyncBoxes.self, SyncBoxesRequest(full: true, wait: true))),
        ("valid-ListBoxes", try call(OZmapIntegration.Method.ListBoxes.self, ListBoxesRequest(archoltOltId: "olt-1", query: "cto-01", pageSize: 50, pageToken: "p2", match: .prefix))),
        ("valid-GetBox", try call(OZmapIntegration.Method.GetBox.self, GetBoxRequest(name: "CTO-01-001"))),
        ("valid-ProvisionONU", try call(OZmapIntegration.Method.ProvisionONU.self, ProvisionONURequest(
            archoltOltId: "olt-1", onuId: "1001", serialNumber: "ZTEG12345678", macAddress: "00:11:22:33:44:55",
            pppoeUser: "alice", cto: "CTO-01-001", implanted: true, requireCto: true))),
        ("valid-AssignCTO", try call(OZmapIntegration.Method.AssignCTO.self, AssignCTORequest(onuId: "1001", cto: "CTO-01-002"))),
        ("valid-DeprovisionONU", try call(OZmapIntegration.Method.DeprovisionONU.self, DeprovisionONURequest(onuId: "1001"))),
        ("valid-GetONU", try call(OZmapIntegration.Method.GetONU.self, GetONURequest(onuId: "1001"))),
        ("valid-ListONUs", try call(OZmapIntegration.Method.ListONUs.self, ListONUsRequest(archoltOltId: "olt-1", state: .pending, pageSize: 10))),
        ("valid-ListOperations", try call(OZmapIntegration.Method.ListOperations.self, ListOperationsRequest(onuId: "1001", state: .failed, pageToken: "t"))),
        ("valid-RetryOperation", try call(OZmapIntegration.Method.RetryOperation.self, RetryOperationRequest(operationId: "op-7"))),
        ("valid-ListAuditLog", try call(OZmapIntegration.Method.ListAuditLog.self, ListAuditLogRequest(onuId: "1001", afterSeq: 42, pageSize: 5))),
        ("valid-Reconcile", try call(OZmapIntegration.Method.Reconcile.self, ReconcileRequest(dryRun: false, archoltOltId: "olt-1"))),
        ("valid-ImportONUs", try call(OZmapIntegration.Method.ImportONUs.self, ImportONUsRequest(dryRun: true, rows: [
            ImportRow(archoltOltId: "olt-1", onuId: "1001", serialNumber: "ZTEG12345678", cto: "CTO-01-001",
                      macAddress: "00:11:22:33:44:55", pppoeUser: "alice", implanted: .implanted),
            ImportRow(archoltOltId: "olt-1", onuId: "1002", serialNumber: "ZTEG12345679", cto: "CTO-01-002"),
        ]))),
        ("valid-GetMetrics", try call(OZmapIntegration.Method.GetMetrics.self, GetMetricsRequest())),
        ("valid-RunDoctor", try call(OZmapIntegration.Method.RunDoctor.self, RunDoctorRequest())),
    ]
    let status = try call(OZmapIntegration.Method.GetStatus.self, GetStatusRequest())
    let provision = seeds.first { $0.0 == "valid-ProvisionONU" }!.1
    seeds += [
        // Framing.
        ("pipelined-three-calls", status + (try call(OZmapIntegration.Method.ListOLTLinks.self, ListOLTLinksRequest(), id: 2))
            + (try call(OZmapIntegration.Method.GetONU.self, GetONURequest(onuId: "nope"), id: 3))),
        ("zero-length-frame", [0, 0, 0, 0]),
        ("zero-length-then-call", [0, 0, 0, 0] + status),
        ("truncated-header", Array(status.prefix(2))),
        ("truncated-body", Array(provision.dropLast(5))),
        ("frame-then-half-a-frame", status + Array(provision.prefix(provision.count / 2))),
        ("oversized-length-prefix", [0, 0, 2, 1] + Array(repeating: 0x41, count: 16)),
        ("length-prefix-ffffffff", [0xff, 0xff, 0xff, 0xff, 8, 1]),
        ("call-then-oversized", status + [0, 0x10, 0, 0]),
        ("exactly-the-maximum", try exactlyMaximumFrame()),
        ("garbage-framed", frame(pseudoRandomBytes(count: 64, seed: 1))),
        ("garbage-unframed", pseudoRandomBytes(count: 48, seed: 2)),
        // Broken envelopes.
        ("envelope-wrong-wire-type", frame(tag(1, 2) + [3, 1, 2, 3])),
        ("envelope-truncated-varint", frame([0x08, 0xff, 0xff])),
        ("envelope-varint-overflow", frame([0x08] + Array(repeating: 0xff, count: 10) + [0x01])),
        ("envelope-invalid-utf8-method", frame(tag(2, 2) + [2, 0xc3, 0x28])),
        ("envelope-nul-in-method", frame(lengthDelimited(2, Array((getONU + "\0x").utf8)))),
        ("envelope-length-past-end", frame(tag(4, 2) + [0x7f, 1, 2])),
        ("envelope-group-wire-type", frame(tag(5, 3) + tag(5, 4))),
        ("envelope-unknown-method", try envelope(path: "/\(service)/NoSuchMethod")),
        ("envelope-method-not-a-path", try envelope(path: "GetStatus")),
        ("envelope-call-id-zero", try frame(RequestEnvelope(callId: 0, method: getONU).serializedBytes())),
        // Broken payloads.
        ("payload-invalid-utf8", try envelope(path: getONU, payload: lengthDelimited(1, [0x6f, 0xff, 0xfe]))),
        ("payload-nul-in-string", try envelope(path: getONU, payload: lengthDelimited(1, Array("onu\0x".utf8)))),
        ("payload-control-characters", try envelope(path: getONU, payload: lengthDelimited(1, Array("onu\u{1}\u{7f}".utf8)))),
        ("payload-unknown-enum", try envelope(path: listONUs, payload: tag(2, 0) + [99])),
        ("payload-negative-enum", try envelope(path: listONUs, payload: tag(2, 0) + Array(repeating: 0xff, count: 9) + [0x01])),
        ("payload-wrong-wire-type", try envelope(path: getONU, payload: tag(1, 0) + [5])),
        ("payload-duplicate-field", try envelope(path: getONU, payload: lengthDelimited(1, Array("a".utf8)) + lengthDelimited(1, Array("b".utf8)))),
        ("payload-unknown-fields", try envelope(path: listONUs, payload: tag(15, 0) + [1] + tag(16, 1) + [UInt8](repeating: 2, count: 8)
            + tag(17, 5) + [3, 3, 3, 3] + lengthDelimited(18, [4, 4]))),
        ("payload-huge-page-size", try envelope(path: listONUs, payload: tag(4, 0) + Array(repeating: 0xff, count: 9) + [0x01])),
        ("payload-length-past-end", try envelope(path: getONU, payload: tag(1, 2) + [0x40, 0x61])),
        ("payload-field-zero", try envelope(path: getONU, payload: [0x02, 0x01, 0x61])),
        // What the server sends, which clients decode.
        ("response-ok", frame(try ResponseEnvelope(callId: 3, status: ArcholtOZmapV1.Status.ok, payload: [0x0a, 0x01, 0x61]).serializedBytes())),
        ("response-invalid-argument", frame(try ResponseEnvelope(callId: 4, status: ArcholtOZmapV1.Status(
            code: 3, message: "onu_id: must not be empty",
            violations: [ArcholtOZmapV1.FieldViolation(field: "onu_id", description: "must not be empty")])).serializedBytes())),
    ]
    return seeds
}

/// A GetStatus call padded with an unknown field until its frame body is exactly the fuzzer's maximum.
func exactlyMaximumFrame() throws -> [UInt8] {
    var padding = fuzzMaximumFrameLength - 100
    while true {
        let payload = lengthDelimited(15, Array(repeating: 0x61, count: padding))
        let body = try RequestEnvelope(callId: 9, method: OZmapIntegration.Method.GetStatus.path, payload: payload).serializedBytes()
        if body.count == fuzzMaximumFrameLength { return frame(body) }
        padding += fuzzMaximumFrameLength - body.count
    }
}

func frame(_ body: [UInt8]) -> [UInt8] {
    withUnsafeBytes(of: UInt32(body.count).bigEndian, Array.init) + body
}

func varint(_ value: UInt64) -> [UInt8] {
    var value = value
    var bytes: [UInt8] = []
    repeat {
        bytes.append(UInt8(value & 0x7f) | (value >= 0x80 ? 0x80 : 0))
        value >>= 7
    } while value > 0
    return bytes
}

func tag(_ field: UInt64, _ wireType: UInt64) -> [UInt8] { varint(field << 3 | wireType) }

func lengthDelimited(_ field: UInt64, _ bytes: [UInt8]) -> [UInt8] {
    tag(field, 2) + varint(UInt64(bytes.count)) + bytes
}

func pseudoRandomBytes(count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt8(truncatingIfNeeded: state >> 56)
    }
}
