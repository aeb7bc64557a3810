"""ozmap_client: the Python client of ozmapd (docs/CLIENTS.md, docs/PROTOCOL.md).

    from ozmap_client import Client, InvalidArgument
    with Client("/run/ozmapd/ozmapd.sock") as ozmap:
        print(ozmap.get_status().version)
"""
from .client import DEFAULT_SOCKET, DEFAULT_TIMEOUT, SERVICE, Client, method_types
from .errors import (ERRORS_BY_CODE, Aborted, AlreadyExists, Cancelled, DataLoss, DeadlineExceeded, FailedPrecondition,
                     Internal, InvalidArgument, NotFound, OutOfRange, OZmapError, PermissionDenied, ResourceExhausted,
                     Unauthenticated, Unavailable, Unimplemented, Unknown, error_for)
from .proto import service_pb2, wire_pb2

__version__ = "0.1.0"

__all__ = [
    "Client", "DEFAULT_SOCKET", "DEFAULT_TIMEOUT", "SERVICE", "method_types", "service_pb2", "wire_pb2",
    "OZmapError", "ERRORS_BY_CODE", "error_for", "Cancelled", "Unknown", "InvalidArgument", "DeadlineExceeded",
    "NotFound", "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted",
    "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated",
]
