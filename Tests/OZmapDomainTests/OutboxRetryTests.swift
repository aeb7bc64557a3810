import OZmapDomain
import Testing

/// The outbox's retry policy speaks the domain's kinds and OZmap's HTTP status, not status codes:
/// what may pass (OZmap away, throttling, a rejected key fixed by new credentials) waits and
/// retries; what OZmap refused for good fails the operation for a person to look at.
@Suite struct OutboxRetryTests {
    private func failure(_ kind: IntegrationError.Kind, http: Int) -> OZmapCallError {
        OZmapCallError(error: IntegrationError(kind, "x"), httpStatus: http)
    }

    @Test func whatMayPassIsRetried() {
        #expect(failure(.ozmapUnreachable, http: 0).isRetryable)
        #expect(failure(.ozmapUnreachable, http: 503).isRetryable)
        #expect(failure(.ozmapUnreachable, http: 429).isRetryable)
        #expect(failure(.ozmapRejectedKey, http: 401).isRetryable)
        #expect(failure(.ozmapForbidden, http: 403).isRetryable)
        // Something ozmapd did not expect, with no answer from OZmap: nothing says it was refused.
        #expect(failure(.internalFailure, http: 0).isRetryable)
    }

    @Test func whatOZmapRefusedIsNot() {
        for status in [400, 409, 422] {
            let refused = failure(.ozmapRefused(httpStatus: status), http: status)
            #expect(!refused.isRetryable && refused.isRefusal, "\(status)")
        }
        #expect(!failure(.ctoFull, http: 422).isRetryable)
        // A 404 is neither: the caller looks the record up again.
        let gone = failure(.ozmapNotFound, http: 404)
        #expect(!gone.isRetryable && !gone.isRefusal)
    }
}
