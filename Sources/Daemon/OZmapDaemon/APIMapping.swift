import OZmapAPI
import OZmapDomain

// Domain values as wire messages: the one place they are converted.

extension OZmapAPI.SyncReport {
    init(_ report: OZmapDomain.SyncReport) {
        self.init(kind: report.kind == .full ? .full : .incremental, running: report.running,
                  startedAt: report.startedAt, finishedAt: report.finishedAt, durationMs: UInt64(max(0, report.durationMs)),
                  boxes: UInt32(clamping: report.boxes), boxesAdded: UInt32(clamping: report.added),
                  boxesUpdated: UInt32(clamping: report.updated), boxesRemoved: UInt32(clamping: report.removed),
                  error: report.error, phase: report.phase,
                  progressDone: UInt32(clamping: report.progressDone), progressTotal: UInt32(clamping: report.progressTotal))
    }
}

extension OZmapAPI.OLTLink {
    init(_ link: OZmapDomain.OLTLink) {
        self.init(archoltOltId: link.archoltOLTID, ozmapOltId: link.ozmapOLTID, ozmapOltName: link.ozmapOLTName,
                  requireCtoOnActivation: link.requireCTOOnActivation, createdAt: link.createdAt, updatedAt: link.updatedAt)
    }
}

extension OZmapAPI.Box {
    init(_ box: CachedBox) {
        self.init(id: box.id, name: box.name, project: box.project, ozmapOltId: box.oltID, slotId: box.slotID, ponId: box.ponID,
                  lat: box.lat, lng: box.lng, boxType: box.boxType, implanted: box.implanted,
                  portsTotal: UInt32(clamping: box.portsTotal), portsFree: UInt32(clamping: box.portsFree),
                  splitters: box.splitters.map {
                      Splitter(id: $0.id, name: $0.name, ozmapOltId: $0.oltID ?? "", slotId: $0.slotID ?? "", ponId: $0.ponID ?? "",
                               isDrop: $0.isDrop, portsTotal: UInt32(clamping: $0.outputs), portsFree: UInt32(clamping: $0.freeOutputs))
                  },
                  updatedAt: box.updatedAt)
    }
}
