import Foundation
import OZmapDomain

/// Tolerant reading of OZmap's JSON: unknown fields ignored, `id` or `_id`,
/// references as ids or as populated objects, optional fields optional.
enum OZmapJSON {
    static func object(_ body: [UInt8]) throws -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw IntegrationError(.ozmapUnreachable, "OZmap answered with something that is not a JSON object (\(body.count) bytes)")
        }
        return object
    }

    /// `message`, else `error`, else the raw body (shortened).
    static func errorMessage(_ body: [UInt8]) -> String {
        if let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] {
            if let message = object["message"] as? String { return message }
            if let error = object["error"] as? String { return error }
        }
        return String(String(decoding: body, as: UTF8.self).prefix(200))
    }

    static func id(_ object: [String: Any]) -> String? {
        string(object["id"]) ?? string(object["_id"])
    }

    /// An id field that may hold the id or the populated object.
    static func reference(_ value: Any?) -> String? {
        if let object = value as? [String: Any] { return id(object) }
        return string(value)
    }

    static func string(_ value: Any?) -> String? {
        switch value {
        case let text as String: text.isEmpty ? nil : text
        case let number as NSNumber: number.stringValue
        default: nil
        }
    }

    static func int(_ value: Any?) -> Int? {
        switch value {
        case let number as NSNumber: number.intValue
        case let text as String: Int(text)
        default: nil
        }
    }

    static func double(_ value: Any?) -> Double? {
        switch value {
        case let number as NSNumber: number.doubleValue
        case let text as String: Double(text)
        default: nil
        }
    }

    static func bool(_ value: Any?) -> Bool {
        switch value {
        case let flag as Bool: flag
        case let number as NSNumber: number.boolValue
        case let text as String: text == "true"
        default: false
        }
    }

    static func olt(_ object: [String: Any]) -> OZmapOLTInfo {
        OZmapOLTInfo(id: id(object) ?? "", name: string(object["name"]) ?? string(object["label"]) ?? "",
                 project: reference(object["project"]) ?? "", ip: string(object["ip"]) ?? "",
                 implanted: bool(object["implanted"]))
    }

    static func splitter(_ object: [String: Any]) -> OZmapSplitter? {
        guard let id = id(object), let parent = reference(object["parent"]) else { return nil }
        let connectables = object["connectables"] as? [String: Any]
        let outputs = connectables?["output"] as? [Any]
        let ratio = object["ratio"] as? [String: Any]
        let outputCount = outputs?.count ?? int(ratio?["output"]) ?? 0
        let free = outputs?.filter { $0 is NSNull }.count ?? outputCount
        return OZmapSplitter(id: id, name: string(object["name"]) ?? "", boxID: parent,
                             oltID: reference(object["olt"]), slotID: reference(object["slot"]), ponID: reference(object["pon"]),
                             isDrop: bool(object["isDrop"]), outputs: outputCount, freeOutputs: free,
                             updatedAt: string(object["updatedAt"]) ?? "")
    }

    /// A property, its client given as an id or populated; `connections` as the splitter ports it holds.
    static func property(_ object: [String: Any]) -> OZmapProperty? {
        guard let id = id(object) else { return nil }
        let client = object["client"] as? [String: Any]
        let connections = (object["connections"] as? [[String: Any]] ?? []).compactMap { connection -> PortConnection? in
            guard let splitter = reference(connection["id"]), let port = int(connection["port"]) else { return nil }
            return PortConnection(splitterID: splitter, splitterName: string(connection["name"]) ?? "", port: port)
        }
        return OZmapProperty(id: id, boxID: reference(object["box"]) ?? "", clientID: reference(object["client"]) ?? "",
                             clientCode: client.flatMap { string($0["code"]) } ?? "", connections: connections,
                             client: client.flatMap(Self.client))
    }

    /// An FTTH client with its ONU data.
    static func client(_ object: [String: Any]) -> FTTHClientRecord? {
        guard let id = id(object) else { return nil }
        let onu = object["onu"] as? [String: Any] ?? [:]
        return FTTHClientRecord(id: id, code: string(object["code"]) ?? "", name: string(object["name"]) ?? "",
                                serialNumber: string(onu["serial_number"]) ?? "", macAddress: string(onu["mac_address"]) ?? "",
                                pppoeUser: string(onu["user_PPPoE"]) ?? "", implanted: bool(object["implanted"]),
                                externalID: string(object["external_id"]) ?? "", observation: string(object["observation"]) ?? "")
    }

    static func box(_ object: [String: Any]) -> OZmapBoxInfo? {
        guard let id = id(object) else { return nil }
        // `coords` is [lng, lat] (GeoJSON order); explicit lat/lng win when present.
        let coords = object["coords"] as? [Any]
        let lat = double(object["lat"]) ?? coords.flatMap { $0.count == 2 ? double($0[1]) : nil } ?? 0
        let lng = double(object["lng"]) ?? coords.flatMap { $0.count == 2 ? double($0[0]) : nil } ?? 0
        return OZmapBoxInfo(id: id, name: string(object["name"]) ?? "", project: reference(object["project"]) ?? "",
                            lat: lat, lng: lng, boxType: reference(object["boxType"]) ?? "",
                            implanted: bool(object["implanted"]), updatedAt: string(object["updatedAt"]) ?? "")
    }
}
