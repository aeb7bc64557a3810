"""The Python client of ozmapd: length-prefixed protobuf envelopes over a Unix socket
(docs/PROTOCOL.md), several calls in flight on one connection, matched by call_id."""
from __future__ import annotations

import itertools
import os
import select
import socket
import struct
import threading
import time
from concurrent.futures import Future
from typing import Any, Dict, Mapping, Optional, Tuple, Type, Union

from google.protobuf.message import DecodeError, Message

from .errors import DeadlineExceeded, Internal, InvalidArgument, OZmapError, Unavailable, error_for
from .proto import service_pb2, wire_pb2

DEFAULT_SOCKET = "/run/ozmapd/ozmapd.sock"
SERVICE = "archolt.ozmap.v1.OZmapIntegration"
DEFAULT_TIMEOUT = 30.0
MAX_FRAME = 64 * 1024 * 1024

_SERVICE = service_pb2.DESCRIPTOR.services_by_name["OZmapIntegration"]

Request = Union[Message, Mapping[str, Any], None]


def _message_class(descriptor) -> Type[Message]:
    cls = getattr(service_pb2, descriptor.name, None)
    if cls is None:  # not a top-level message of service.proto
        from google.protobuf import message_factory
        cls = message_factory.GetMessageClass(descriptor)
    return cls


def method_types(method: str) -> Tuple[str, Type[Message], Type[Message]]:
    """(path, request class, response class) of a method, by name ("GetStatus") or path."""
    name = method.rsplit("/", 1)[-1]
    descriptor = _SERVICE.methods_by_name.get(name)
    if descriptor is None:
        raise InvalidArgument(f"{SERVICE} has no method {name!r}")
    return f"/{SERVICE}/{name}", _message_class(descriptor.input_type), _message_class(descriptor.output_type)


class _Pending:
    __slots__ = ("future", "response_class", "deadline", "timeout")

    def __init__(self, future: Future, response_class: Type[Message], deadline: float, timeout: float):
        self.future, self.response_class, self.deadline, self.timeout = future, response_class, deadline, timeout


class _Connection:
    """One socket, its reader thread and the calls in flight on it."""

    def __init__(self, path: str):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.connect(path)
        except OSError as error:
            self.sock.close()
            raise Unavailable(f"cannot connect to ozmapd at {path}: {error.strerror or error}") from None
        self.lock = threading.Lock()        # pending, closed
        self.write_lock = threading.Lock()  # whole frames only
        self.pending: Dict[int, _Pending] = {}
        self.closed = False
        self.ids = itertools.count(1)
        self.reader = threading.Thread(target=self._read, name=f"ozmap-client {path}", daemon=True)
        self.reader.start()

    def send(self, path: str, payload: bytes, timeout: float, response_class: Type[Message]) -> Future:
        future: Future = Future()
        future.set_running_or_notify_cancel()
        timeout_ms = max(1, min(int(timeout * 1000), 0xFFFFFFFF))
        with self.lock:
            if self.closed:
                raise Unavailable("ozmapd closed the connection")
            call_id = next(self.ids)
            self.pending[call_id] = _Pending(future, response_class, time.monotonic() + timeout, timeout)
        envelope = wire_pb2.RequestEnvelope(call_id=call_id, method=path, timeout_ms=timeout_ms, payload=payload)
        body = envelope.SerializeToString()
        try:
            with self.write_lock:
                self.sock.sendall(struct.pack(">I", len(body)) + body)
        except OSError as error:
            self._fail_all(Unavailable(f"cannot write to ozmapd: {error.strerror or error}"))
        return future

    def close(self) -> None:
        self._fail_all(Unavailable("the client closed the connection"))
        self.reader.join(timeout=5)

    def _fail_all(self, error: OZmapError) -> None:
        with self.lock:
            was_closed, self.closed = self.closed, True
            pending, self.pending = self.pending, {}
        if not was_closed:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for call in pending.values():
            if not call.future.done():
                call.future.set_exception(error_for(error.code, error.message, error.violations))

    def _expire(self) -> None:
        now = time.monotonic()
        with self.lock:
            late = [call_id for call_id, call in self.pending.items() if call.deadline <= now]
            expired = [self.pending.pop(call_id) for call_id in late]
        for call in expired:  # a late answer finds no pending call and is ignored
            call.future.set_exception(DeadlineExceeded(f"no answer from ozmapd within {call.timeout:g} s"))

    def _read(self) -> None:
        buffer = b""
        try:
            while True:
                ready, _, _ = select.select([self.sock], [], [], 0.05)
                self._expire()
                if not ready:
                    with self.lock:
                        if self.closed:
                            return
                    continue
                chunk = self.sock.recv(65536)
                if not chunk:
                    self._fail_all(Unavailable("ozmapd closed the connection"))
                    return
                buffer += chunk
                while len(buffer) >= 4:
                    (length,) = struct.unpack(">I", buffer[:4])
                    if length > MAX_FRAME:
                        self._fail_all(Internal(f"ozmapd sent a frame of {length} bytes"))
                        return
                    if len(buffer) < 4 + length:
                        break
                    frame, buffer = buffer[4:4 + length], buffer[4 + length:]
                    if not self._deliver(frame):
                        return
        except (OSError, ValueError) as error:
            self._fail_all(Unavailable(f"ozmapd closed the connection: {error}"))

    def _deliver(self, frame: bytes) -> bool:
        response = wire_pb2.ResponseEnvelope()
        try:
            response.ParseFromString(frame)
        except DecodeError:
            self._fail_all(Internal("ozmapd sent a frame that is not a ResponseEnvelope"))
            return False
        status = response.status
        violations = [(v.field, v.description) for v in status.violations]
        if response.call_id == 0:
            # A connection-level error: every call in flight fails with it; ozmapd closes the connection.
            self._fail_all(error_for(status.code or 2, status.message or "connection error", violations))
            return False
        with self.lock:
            call = self.pending.pop(response.call_id, None)
        if call is None or call.future.done():
            return True
        if status.code != 0:
            call.future.set_exception(error_for(status.code, status.message, violations))
            return True
        try:
            call.future.set_result(call.response_class.FromString(response.payload))
        except DecodeError:
            call.future.set_exception(Internal(f"the response is not a {call.response_class.DESCRIPTOR.full_name}"))
        return True


class Client:
    """A connection to ozmapd. Thread-safe: any number of threads may call at once, and
    `submit` puts several calls in flight on the one connection (answered in completion
    order, matched by call_id). Failures raise the OZmapError subclass of their status.

        with Client("/run/ozmapd/ozmapd.sock") as ozmap:
            onu = ozmap.provision_onu("olt-1", "1001", "ZTEG12345678", cto="CTO-01-001").onu
    """

    def __init__(self, socket_path: Optional[str] = None, timeout: float = DEFAULT_TIMEOUT):
        self.socket_path = socket_path or os.environ.get("OZMAPD_SOCKET") or DEFAULT_SOCKET
        self.timeout = timeout
        self._lock = threading.Lock()
        self._connection: Optional[_Connection] = _Connection(self.socket_path)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    # The generic calls.

    def submit(self, method: str, request: Request = None, timeout: Optional[float] = None) -> "Future[Message]":
        """Sends a call and returns at once: a Future of the response message, whose
        `result()` raises the call's OZmapError. `timeout` (seconds, default the client's)
        is sent as the envelope's timeout_ms and kept as the client's own timer."""
        path, request_class, response_class = method_types(method)
        if request is None:
            message = request_class()
        elif isinstance(request, Message):
            if request.DESCRIPTOR is not request_class.DESCRIPTOR:
                raise InvalidArgument(f"{method} takes a {request_class.DESCRIPTOR.full_name}, not a {request.DESCRIPTOR.full_name}")
            message = request
        else:
            message = request_class(**request)
        payload = message.SerializeToString()
        timeout = self.timeout if timeout is None else timeout
        # A connection ozmapd closed (idle timeout, restart) is opened again, once, before sending.
        with self._lock:
            if self._connection is None or self._connection.closed:
                if self._connection is not None:
                    self._connection.close()
                self._connection = _Connection(self.socket_path)
            connection = self._connection
        return connection.send(path, payload, timeout, response_class)

    def call(self, method: str, request: Request = None, timeout: Optional[float] = None) -> Message:
        """One call, waiting for its answer: the response message, or the call's OZmapError raised."""
        future = self.submit(method, request, timeout)
        # The connection's reader fails the future at the deadline; the margin only guards against a stuck reader.
        return future.result(timeout=(self.timeout if timeout is None else timeout) + 5)

    # Typed calls for the core RPCs.

    def get_status(self, timeout: Optional[float] = None) -> service_pb2.GetStatusResponse:
        return self.call("GetStatus", None, timeout)  # type: ignore[return-value]

    def list_methods(self, timeout: Optional[float] = None) -> service_pb2.ListMethodsResponse:
        return self.call("ListMethods", None, timeout)  # type: ignore[return-value]

    def list_ozmap_olts(self, timeout: Optional[float] = None) -> service_pb2.ListOZmapOLTsResponse:
        return self.call("ListOZmapOLTs", None, timeout)  # type: ignore[return-value]

    def link_olt(self, archolt_olt_id: str, ozmap_olt_id: str, require_cto_on_activation: bool = False,
                 timeout: Optional[float] = None) -> service_pb2.LinkOLTResponse:
        request = service_pb2.LinkOLTRequest(archolt_olt_id=archolt_olt_id, ozmap_olt_id=ozmap_olt_id,
                                             require_cto_on_activation=require_cto_on_activation)
        return self.call("LinkOLT", request, timeout)  # type: ignore[return-value]

    def list_boxes(self, archolt_olt_id: str = "", ozmap_olt_id: str = "", query: str = "", page_size: int = 0,
                   page_token: str = "", timeout: Optional[float] = None) -> service_pb2.ListBoxesResponse:
        request = service_pb2.ListBoxesRequest(archolt_olt_id=archolt_olt_id, ozmap_olt_id=ozmap_olt_id, query=query,
                                               page_size=page_size, page_token=page_token)
        return self.call("ListBoxes", request, timeout)  # type: ignore[return-value]

    def provision_onu(self, archolt_olt_id: str, onu_id: str, serial_number: str, cto: str = "",
                      mac_address: str = "", pppoe_user: str = "", implanted: Optional[bool] = False,
                      require_cto: bool = False, timeout: Optional[float] = None) -> service_pb2.ProvisionONUResponse:
        """implanted: True or False (the default, as on the wire and in ozmapctl) sets the OZmap
        client's implantation; None leaves it as OZmap has it (IMPLANTATION_UNCHANGED)."""
        implantation = (service_pb2.IMPLANTATION_UNCHANGED if implanted is None else
                        service_pb2.IMPLANTATION_IMPLANTED if implanted else service_pb2.IMPLANTATION_NOT_IMPLANTED)
        request = service_pb2.ProvisionONURequest(archolt_olt_id=archolt_olt_id, onu_id=onu_id,
                                                  serial_number=serial_number, mac_address=mac_address,
                                                  pppoe_user=pppoe_user, cto=cto, require_cto=require_cto,
                                                  implantation=implantation)
        return self.call("ProvisionONU", request, timeout)  # type: ignore[return-value]

    def assign_cto(self, onu_id: str, cto: str, archolt_olt_id: str = "", serial_number: str = "",
                   timeout: Optional[float] = None) -> service_pb2.AssignCTOResponse:
        request = service_pb2.AssignCTORequest(onu_id=onu_id, cto=cto, archolt_olt_id=archolt_olt_id,
                                               serial_number=serial_number)
        return self.call("AssignCTO", request, timeout)  # type: ignore[return-value]

    def deprovision_onu(self, onu_id: str, timeout: Optional[float] = None) -> service_pb2.DeprovisionONUResponse:
        return self.call("DeprovisionONU", service_pb2.DeprovisionONURequest(onu_id=onu_id), timeout)  # type: ignore[return-value]

    def get_onu(self, onu_id: str, timeout: Optional[float] = None) -> service_pb2.ONU:
        return self.call("GetONU", service_pb2.GetONURequest(onu_id=onu_id), timeout)  # type: ignore[return-value]
