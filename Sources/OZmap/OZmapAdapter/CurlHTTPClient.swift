import CCurl
import Foundation
import Synchronization
import NIOPosix

/// One HTTP exchange, as the OZmap client sees it.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]?

    public init(method: String, url: String, headers: [(String, String)] = [], body: [UInt8]? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names in lower case.
    public var headers: [String: String]
    public var body: [UInt8]
}

/// A transfer that never produced an HTTP status: refused, timed out, TLS failure...
public struct HTTPTransportError: Error, Sendable, CustomStringConvertible {
    public var code: Int
    /// libcurl's detailed reason (its error buffer: "SSL certificate problem: self-signed
    /// certificate", "Failed to connect to host port 9994: Connection refused"), else its generic one.
    public var message: String
    public var isTimeout: Bool { code == Int(CURLE_OPERATION_TIMEDOUT.rawValue) }
    /// The TLS handshake or the server's certificate failed.
    public var isTLSFailure: Bool {
        [CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
         CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS,
         CURLE_SSL_CRL_BADFILE, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED]
            .contains { Int($0.rawValue) == code }
    }
    /// False only when no connection was made, so the server cannot have seen the request.
    public var mayHaveBeenSent: Bool {
        ![CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY].contains { Int($0.rawValue) == code }
    }
    public var description: String { message }
}

public struct HTTPClientConfiguration: Sendable {
    /// Requests in flight at once: also the number of worker threads and of kept-alive connections.
    public var concurrency = 4
    public var connectTimeoutMs = 5_000
    public var timeoutMs = 30_000
    /// A PEM bundle to verify the server with (on-premises OZmap with its own CA).
    public var caFile: String?
    /// Disables TLS verification: only ever from an explicit setting, and logged loudly by the caller.
    public var insecureSkipTLSVerify = false

    public init() {}
}

/// HTTP through libcurl. Each of `concurrency` worker threads owns an easy
/// handle for its whole life, so connections are kept alive and reused, and at
/// most `concurrency` requests are in flight.
public final class CurlHTTPClient: Sendable {
    public let configuration: HTTPClientConfiguration
    private let pool: NIOThreadPool
    private let handles: Mutex<[CurlHandle]>
    private let connections = Mutex(0)

    /// New connections libcurl had to open: with keep-alive, about `concurrency` for any number of requests.
    public var connectionsOpened: Int { connections.withLock { $0 } }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    public init(configuration: HTTPClientConfiguration) {
        _ = Self.globalInit
        self.configuration = configuration
        let count = max(1, configuration.concurrency)
        pool = NIOThreadPool(numberOfThreads: count)
        pool.start()
        handles = Mutex((0..<count).map { _ in CurlHandle() })
    }

    deinit {
        pool.shutdownGracefully { _ in }
    }

    /// A read the calling task no longer wants (it was cancelled: a deadline, a superseded pass,
    /// a shutdown) ends with `CancellationError`: under way, within about a second (libcurl's
    /// progress callback); still queued, when a worker thread frees, never sent. A write under
    /// way runs to its answer: whether OZmap applied it must be known (a queued one whose caller
    /// left is never sent, as NIO's pool drops it).
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard request.method == "GET" || request.method == "HEAD" else { return try await perform(request, abort: nil) }
        let abort = TransferAbort()
        return try await withTaskCancellationHandler {
            try await perform(request, abort: abort)
        } onCancel: {
            abort.requested.store(true, ordering: .relaxed)
        }
    }

    private func perform(_ request: HTTPRequest, abort: TransferAbort?) async throws -> HTTPResponse {
        try await pool.runIfActive { [self] in
            // The pool has as many threads as handles, so one is always free here.
            let handle = handles.withLock { $0.removeLast() }
            defer { handles.withLock { $0.append(handle) } }
            let (response, opened) = try handle.perform(request, configuration: configuration, abort: abort)
            connections.withLock { $0 += opened }
            return response
        }
    }
}

/// Set when the task waiting for a transfer is cancelled; the transfer's progress callback reads it.
final class TransferAbort: Sendable {
    let requested = Atomic(false)
}

/// A libcurl easy handle, used by one thread at a time.
final class CurlHandle: @unchecked Sendable {
    private let handle: UnsafeMutableRawPointer
    /// CURLOPT_ERRORBUFFER: libcurl writes the detailed reason of a failed transfer here.
    private let errorBuffer: UnsafeMutablePointer<CChar>

    init() {
        handle = curl_easy_init()
        errorBuffer = .allocate(capacity: Int(ozmap_curl_error_size))
        errorBuffer.initialize(repeating: 0, count: Int(ozmap_curl_error_size))
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Collects the body and headers of one transfer.
    private final class Sink {
        /// The most a `Content-Length` reserves up front: a larger body still arrives, growing as it comes.
        static let largestReservation = 16 << 20
        var body: [UInt8] = []
        var headers: [String: String] = [:]
        /// `Content-Length`, when sent (a HEAD's is never reserved: no body comes).
        private var expectedLength = 0

        /// The body's size known before it comes: one allocation, instead of a dozen as it doubled
        /// (copying each time into pages the kernel had to zero: 6% of a full pass's CPU).
        func receive(_ bytes: UnsafeRawBufferPointer) {
            if body.isEmpty, expectedLength > bytes.count { body.reserveCapacity(min(expectedLength, Self.largestReservation)) }
            body.append(contentsOf: bytes)
        }

        /// One header line as libcurl hands it (`Name: value\r\n`; the status line and the blank
        /// one have no colon). Bytes, not Foundation: this ran for every line of every page, 3% of a
        /// full pass's CPU with `lowercased` and `trimmingCharacters`.
        func addHeader(_ line: UnsafeRawBufferPointer) {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return }
            func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
            var start = colon + 1
            var end = line.count
            while start < end, isSpace(line[start]) { start += 1 }
            while end > start, isSpace(line[end - 1]) { end -= 1 }
            let name = String(decoding: line[..<colon].lazy.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
            let value = String(decoding: UnsafeRawBufferPointer(rebasing: line[start..<end]), as: UTF8.self)
            headers[name] = value
            if name == "content-length", let length = Int(value) { expectedLength = length }
        }
    }

    /// The response, and how many new connections the transfer opened. Throws `CancellationError`
    /// when `abort` was requested during the transfer.
    func perform(_ request: HTTPRequest, configuration: HTTPClientConfiguration, abort: TransferAbort?) throws -> (HTTPResponse, Int) {
        curl_easy_reset(handle) // keeps the connection cache: only options are cleared
        let sink = Sink()
        let sinkPointer = Unmanaged.passUnretained(sink).toOpaque()
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        for (name, value) in request.headers {
            headerList = curl_slist_append(headerList, "\(name): \(value)")
        }
        // libcurl adds "Expect: 100-continue" to larger bodies; OZmap does not need the round trip.
        headerList = curl_slist_append(headerList, "Expect:")

        ozmap_curl_setopt_string(handle, CURLOPT_URL, request.url)
        errorBuffer[0] = 0
        ozmap_curl_setopt_errorbuffer(handle, errorBuffer) // curl_easy_reset cleared it
        ozmap_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        ozmap_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, configuration.connectTimeoutMs)
        ozmap_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, configuration.timeoutMs)
        ozmap_curl_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, "") // every encoding libcurl can decode
        ozmap_curl_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1)
        ozmap_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
        ozmap_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https")
        if let caFile = configuration.caFile { ozmap_curl_setopt_string(handle, CURLOPT_CAINFO, caFile) }
        if configuration.insecureSkipTLSVerify {
            ozmap_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 0)
            ozmap_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 0)
        }
        ozmap_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
        if request.method != "GET", request.method != "HEAD" {
            // libcurl silently resends a request whose reused connection died before any reply;
            // for a POST that could create a client twice. Writes get a connection of their own.
            ozmap_curl_setopt_long(handle, CURLOPT_FRESH_CONNECT, 1)
            ozmap_curl_setopt_long(handle, CURLOPT_FORBID_REUSE, 1)
        }
        if request.method == "HEAD" { ozmap_curl_setopt_long(handle, CURLOPT_NOBODY, 1) }
        ozmap_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList)
        ozmap_curl_setopt_callback(handle, CURLOPT_WRITEFUNCTION) { data, size, count, userdata in
            Unmanaged<Sink>.fromOpaque(userdata!).takeUnretainedValue().receive(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        }
        ozmap_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, sinkPointer)
        ozmap_curl_setopt_callback(handle, CURLOPT_HEADERFUNCTION) { data, size, count, userdata in
            Unmanaged<Sink>.fromOpaque(userdata!).takeUnretainedValue().addHeader(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        }
        ozmap_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, sinkPointer)
        if let abort {
            // Called at least once a second, waiting or not; non-zero ends the transfer.
            ozmap_curl_setopt_long(handle, CURLOPT_NOPROGRESS, 0)
            ozmap_curl_setopt_xferinfo(handle) { userdata, _, _, _, _ in
                Unmanaged<TransferAbort>.fromOpaque(userdata!).takeUnretainedValue().requested.load(ordering: .relaxed) ? 1 : 0
            }
            ozmap_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, Unmanaged.passUnretained(abort).toOpaque())
        }

        let result: CURLcode = if let body = request.body {
            body.withUnsafeBufferPointer { buffer in
                ozmap_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, buffer.count)
                ozmap_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: buffer.baseAddress))
                return curl_easy_perform(handle)
            }
        } else {
            curl_easy_perform(handle)
        }
        guard result == CURLE_OK else {
            if result == CURLE_ABORTED_BY_CALLBACK, abort?.requested.load(ordering: .relaxed) == true { throw CancellationError() }
            let detail = String(cString: errorBuffer).trimmingCharacters(in: .whitespacesAndNewlines)
            throw HTTPTransportError(code: Int(result.rawValue), message: detail.isEmpty ? String(cString: curl_easy_strerror(result)) : detail)
        }
        var status = 0
        ozmap_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        var opened = 0
        ozmap_curl_getinfo_long(handle, CURLINFO_NUM_CONNECTS, &opened)
        return (HTTPResponse(status: status, headers: sink.headers, body: sink.body), opened)
    }
}
