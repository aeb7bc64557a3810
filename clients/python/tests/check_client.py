#!/usr/bin/env python3
"""Checks of ozmap_client, run by `make test` (ClientLibrariesTests) and by hand:

    check_client.py                 against a fake server only: pipelining out of order,
                                    deadlines, status codes as exceptions, connection errors
    check_client.py SOCKET ONU_OLT  also against a running ozmapd whose OLT ONU_OLT is linked:
                                    a bad request raises InvalidArgument, pipelined calls
"""
import os
import socket
import struct
import sys
import tempfile
import threading
import time

from ozmap_client import (Client, DeadlineExceeded, FailedPrecondition, InvalidArgument, NotFound, OZmapError,
                          ResourceExhausted, Unavailable, service_pb2, wire_pb2)


def read_frame(conn: socket.socket) -> bytes:
    def exactly(n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data
    (length,) = struct.unpack(">I", exactly(4))
    return exactly(length)


def write_frame(conn: socket.socket, message) -> None:
    body = message.SerializeToString()
    conn.sendall(struct.pack(">I", len(body)) + body)


class FakeServer:
    """Accepts one connection at a time and hands each RequestEnvelope to `handle(conn, envelope)`."""

    def __init__(self, handle):
        self.directory = tempfile.mkdtemp(prefix="ozmap-py-")
        self.path = os.path.join(self.directory, "fake.sock")
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(4)
        self.handle = handle
        self.requests = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._connection, args=(conn,), daemon=True).start()

    def _connection(self, conn):
        try:
            while True:
                envelope = wire_pb2.RequestEnvelope.FromString(read_frame(conn))
                self.requests.append(envelope)
                self.handle(conn, envelope)
        except (EOFError, OSError):
            conn.close()

    def close(self):
        self.listener.close()
        os.unlink(self.path)
        os.rmdir(self.directory)


def answer(conn, call_id, message=None, code=0, text="", violations=()):
    status = wire_pb2.Status(code=code, message=text,
                             violations=[wire_pb2.FieldViolation(field=f, description=d) for f, d in violations])
    payload = message.SerializeToString() if message is not None else b""
    write_frame(conn, wire_pb2.ResponseEnvelope(call_id=call_id, status=status, payload=payload))


def raises(cls, function, *args):
    """The exception of class `cls` that function(*args) raises; fails when it raises none or another."""
    try:
        function(*args)
    except cls as error:
        return error
    except Exception as error:
        raise AssertionError(f"expected {cls.__name__}, got {type(error).__name__}: {error}") from error
    raise AssertionError(f"expected {cls.__name__}, nothing was raised")


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print(f"ok: {what}")


def pipelining_out_of_order():
    held = []
    lock = threading.Lock()

    def handle(conn, envelope):
        with lock:
            held.append(envelope)
            if len(held) < 3:
                return
            for request in reversed(held):  # answered in reverse: matched by call_id
                answer(conn, request.call_id, service_pb2.GetStatusResponse(version=f"v{request.call_id}"))
            held.clear()

    server = FakeServer(handle)
    with Client(server.path, timeout=5) as client:
        futures = [client.submit("GetStatus") for _ in range(3)]
        versions = [future.result(timeout=5).version for future in futures]
    check(versions == ["v1", "v2", "v3"], "three pipelined calls answered in reverse order reach their callers")
    check([r.method for r in server.requests] == ["/archolt.ozmap.v1.OZmapIntegration/GetStatus"] * 3, "method paths")
    check([r.timeout_ms for r in server.requests] == [5000] * 3, "timeout_ms carries the client's timeout")
    server.close()


def deadlines():
    def handle(conn, envelope):
        if envelope.method.endswith("/GetONU"):
            return  # never answered
        answer(conn, envelope.call_id, service_pb2.GetStatusResponse(version="late-ok"))

    server = FakeServer(handle)
    with Client(server.path) as client:
        started = time.monotonic()
        try:
            client.get_onu("1001", timeout=0.3)
            check(False, "a call never answered raises DeadlineExceeded")
        except DeadlineExceeded as error:
            elapsed = time.monotonic() - started
            check(0.25 <= elapsed < 2.0, f"a call never answered raises DeadlineExceeded after its timeout ({elapsed:.2f} s): {error}")
        check(server.requests[0].timeout_ms == 300, "timeout_ms = 300 in the envelope")
        check(client.get_status(timeout=2).version == "late-ok", "the connection carries on after a call timed out")
    server.close()


def status_codes():
    def handle(conn, envelope):
        if envelope.method.endswith("/GetONU"):
            answer(conn, envelope.call_id, code=5, text="no ONU 1001")
        elif envelope.method.endswith("/ProvisionONU"):
            answer(conn, envelope.call_id, code=3, text="invalid request", violations=[("serial_number", "too short")])
        elif envelope.method.endswith("/LinkOLT"):
            answer(conn, envelope.call_id, code=9, text="no credentials")
        else:
            answer(conn, 0, code=8, text="too many connections")

    server = FakeServer(handle)
    with Client(server.path, timeout=5) as client:
        error = raises(NotFound, lambda: client.get_onu("1001"))
        check(error.code == 5 and error.message == "no ONU 1001", "NOT_FOUND raises NotFound with the message")
        error = raises(InvalidArgument, lambda: client.provision_onu("olt", "1001", "x"))
        check(error.violations == [("serial_number", "too short")], "INVALID_ARGUMENT carries its violations")
        error = raises(FailedPrecondition, client.link_olt, "olt", "ozmap-olt")
        check(isinstance(error, OZmapError) and error.code == 9, "FAILED_PRECONDITION raises FailedPrecondition")
        error = raises(ResourceExhausted, client.get_status)
        check(error.message == "too many connections", "a connection-level error fails the calls in flight")
        raises(InvalidArgument, client.call, "NoSuchMethod")
        check(True, "an unknown method name is refused before sending")
    server.close()
    error = raises(Unavailable, Client, server.path)
    check("cannot connect" in str(error), "no server: Unavailable")


def reconnects_once_closed():
    def handle(conn, envelope):
        answer(conn, envelope.call_id, service_pb2.GetStatusResponse(version=f"v{envelope.call_id}"))
        conn.shutdown(socket.SHUT_RDWR)  # as after ozmapd's idle timeout or a restart

    server = FakeServer(handle)
    with Client(server.path, timeout=5) as client:
        check(client.get_status().version == "v1", "a call answered before the connection closes")
        deadline = time.monotonic() + 5
        while not client._connection.closed and time.monotonic() < deadline:
            time.sleep(0.01)
        check(client.get_status().version == "v1", "the next call connects again and goes out on the new connection")
    server.close()


def against_ozmapd(socket_path, olt):
    with Client(socket_path, timeout=30) as client:
        error = raises(InvalidArgument, client.provision_onu, olt, "py-bad-1", "x!")
        check(error.code == 3, f"ozmapd: a bad serial number raises InvalidArgument: {error}")
        futures = [client.submit("GetStatus") for _ in range(20)]
        futures.append(client.submit("GetONU", {"onu_id": "py-never-seen"}))
        futures += [client.submit("GetStatus") for _ in range(20)]
        versions = {future.result(timeout=30).version for future in futures if future is not futures[20]}
        check(len(versions) == 1 and "" not in versions, "ozmapd: 40 pipelined GetStatus answered on one connection")
        raises(NotFound, futures[20].result, 10)
        check(True, "ozmapd: GetONU of an unknown ONU raises NotFound, among pipelined calls")


def main():
    pipelining_out_of_order()
    deadlines()
    status_codes()
    reconnects_once_closed()
    if len(sys.argv) == 3:
        against_ozmapd(sys.argv[1], sys.argv[2])
    print("all checks passed")


if __name__ == "__main__":
    main()
