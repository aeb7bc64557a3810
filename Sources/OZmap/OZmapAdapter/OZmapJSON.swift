import OZmapDomain

/// Tolerant reading of OZmap's JSON: unknown fields ignored, `id` or `_id`,
/// references as ids or as populated objects, optional fields optional,
/// numbers sent as text read as numbers and the other way round.
enum OZmapJSON {
    static func object(_ body: [UInt8]) throws -> JSONObject {
        guard let object = (try? JSONValue(document: body))?.object else {
            throw IntegrationError(.ozmapUnreachable, "OZmap answered with something that is not a JSON object (\(body.count) bytes)")
        }
        return object
    }

    /// The objects of a JSON array; nil when `body` is no array of objects.
    static func objects(_ body: [UInt8]) -> [JSONObject]? {
        objects((try? JSONValue(document: body)))
    }

    /// The objects of an array value; nil when it is no array or holds anything else.
    static func objects(_ value: JSONValue?) -> [JSONObject]? {
        guard let elements = value?.array else { return nil }
        var objects: [JSONObject] = []
        objects.reserveCapacity(elements.count)
        for element in elements {
            guard let object = element.object else { return nil }
            objects.append(object)
        }
        return objects
    }

    /// `message`, else `error`, else the raw body (shortened).
    static func errorMessage(_ body: [UInt8]) -> String {
        if let object = try? JSONValue(document: body).object {
            if let message = object["message"]?.string { return message }
            if let error = object["error"]?.string { return error }
        }
        return String(String(decoding: body, as: UTF8.self).prefix(200))
    }

    static func id(_ object: JSONObject) -> String? {
        string(object["id"]) ?? string(object["_id"])
    }

    /// An id field that may hold the id or the populated object.
    static func reference(_ value: JSONValue?) -> String? {
        if let object = value?.object { return id(object) }
        return string(value)
    }

    static func string(_ value: JSONValue?) -> String? {
        guard let value else { return nil }
        if let text = value.string { return text.isEmpty ? nil : text }
        return value.numberText
    }

    static func int(_ value: JSONValue?) -> Int? {
        guard let text = value?.numberText ?? value?.string else { return nil }
        if let whole = Int(text) { return whole }
        // A number with a fraction or an exponent counts by its whole part, as NSNumber's intValue did.
        guard value?.numberText != nil, let number = Double(text), number.isFinite, abs(number) < 9.2e18 else { return nil }
        return Int(number)
    }

    static func double(_ value: JSONValue?) -> Double? {
        (value?.numberText ?? value?.string).flatMap(Double.init)
    }

    static func bool(_ value: JSONValue?) -> Bool {
        guard let value else { return false }
        if let flag = value.bool { return flag }
        if let number = value.numberText { return Double(number).map { $0 != 0 } ?? false }
        return value.string == "true"
    }

    static func olt(_ object: JSONObject) -> OZmapOLTInfo {
        OZmapOLTInfo(id: id(object) ?? "", name: string(object["name"]) ?? string(object["label"]) ?? "",
                 project: reference(object["project"]) ?? "", ip: string(object["ip"]) ?? "",
                 implanted: bool(object["implanted"]))
    }

    /// What `splitter` reads, asked for with `select` on the box sync's reads (a row's `project`,
    /// `splitterType`, `kind`, dates and flags are a third of it); `id` comes whatever is selected.
    static let splitterFields = "name,parent,olt,slot,pon,isDrop,connectables,ratio,updatedAt"

    static func splitter(_ object: JSONObject) -> OZmapSplitter? {
        guard let id = id(object), let parent = reference(object["parent"]) else { return nil }
        let outputs = object["connectables"]?.object?["output"]?.elementCounts
        let outputCount = outputs?.all ?? int(object["ratio"]?.object?["output"]) ?? 0
        let free = outputs?.null ?? outputCount
        return OZmapSplitter(id: id, name: string(object["name"]) ?? "", boxID: parent,
                             oltID: reference(object["olt"]), slotID: reference(object["slot"]), ponID: reference(object["pon"]),
                             isDrop: bool(object["isDrop"]), outputs: outputCount, freeOutputs: free,
                             updatedAt: string(object["updatedAt"]) ?? "")
    }

    static func tracedSplitter(_ object: JSONObject) -> TracedSplitter? {
        guard let parent = reference(object["parent"]) else { return nil }
        return TracedSplitter(boxID: parent, updatedAt: string(object["updatedAt"]) ?? "")
    }

    /// A property, its client given as an id or populated; `connections` as the splitter ports it holds.
    static func property(_ object: JSONObject) -> OZmapProperty? {
        guard let id = id(object) else { return nil }
        let client = object["client"]?.object
        let connections = (objects(object["connections"]) ?? []).compactMap { connection -> PortConnection? in
            guard let splitter = reference(connection["id"]), let port = int(connection["port"]) else { return nil }
            return PortConnection(splitterID: splitter, splitterName: string(connection["name"]) ?? "", port: port)
        }
        return OZmapProperty(id: id, boxID: reference(object["box"]) ?? "", clientID: reference(object["client"]) ?? "",
                             clientCode: client.flatMap { string($0["code"]) } ?? "", connections: connections,
                             client: client.flatMap(Self.client))
    }

    /// An FTTH client with its ONU data.
    static func client(_ object: JSONObject) -> FTTHClientRecord? {
        guard let id = id(object) else { return nil }
        let onu = object["onu"]?.object
        return FTTHClientRecord(id: id, code: string(object["code"]) ?? "", name: string(object["name"]) ?? "",
                                serialNumber: string(onu?["serial_number"]) ?? "", macAddress: string(onu?["mac_address"]) ?? "",
                                pppoeUser: string(onu?["user_PPPoE"]) ?? "", implanted: bool(object["implanted"]),
                                externalID: string(object["external_id"]) ?? "", observation: string(object["observation"]) ?? "")
    }

    /// What `box` reads, asked for with `select` (a box row also carries its cables, tags, pole,
    /// address: half of it on the simulator, more on a real network).
    static let boxFields = "name,project,coords,lat,lng,boxType,implanted,updatedAt"

    static func box(_ object: JSONObject) -> OZmapBoxInfo? {
        guard let id = id(object) else { return nil }
        // `coords` is [lng, lat] (GeoJSON order); explicit lat/lng win when present.
        let coords = object["coords"]?.array
        let lat = double(object["lat"]) ?? coords.flatMap { $0.count == 2 ? double($0[1]) : nil } ?? 0
        let lng = double(object["lng"]) ?? coords.flatMap { $0.count == 2 ? double($0[0]) : nil } ?? 0
        return OZmapBoxInfo(id: id, name: string(object["name"]) ?? "", project: reference(object["project"]) ?? "",
                            lat: lat, lng: lng, boxType: reference(object["boxType"]) ?? "",
                            implanted: bool(object["implanted"]), updatedAt: string(object["updatedAt"]) ?? "")
    }
}
