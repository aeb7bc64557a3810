"""ozmapd's status codes (gRPC numbering, docs/PROTOCOL.md) as exceptions: one class per code."""
from __future__ import annotations

from typing import Dict, List, Tuple, Type


class OZmapError(Exception):
    """A call that did not answer OK. `code` is the status code, `message` ozmapd's
    explanation, `violations` the (field, description) pairs of a wrong request."""

    code: int = 2
    name: str = "UNKNOWN"

    def __init__(self, message: str = "", violations: List[Tuple[str, str]] | None = None, code: int | None = None):
        if code is not None:
            self.code = code
        self.message = message
        self.violations = list(violations or [])
        text = f"{self.name} ({self.code}): {message}"
        if self.violations:
            text += " [" + "; ".join(f"{field}: {description}" for field, description in self.violations) + "]"
        super().__init__(text)


class Cancelled(OZmapError):
    code, name = 1, "CANCELLED"


class Unknown(OZmapError):
    code, name = 2, "UNKNOWN"


class InvalidArgument(OZmapError):
    """A request field is wrong (see `violations`): fix the request, do not retry it as is."""
    code, name = 3, "INVALID_ARGUMENT"


class DeadlineExceeded(OZmapError):
    """The call ran past its timeout (ozmapd's, or the client's own timer)."""
    code, name = 4, "DEADLINE_EXCEEDED"


class NotFound(OZmapError):
    code, name = 5, "NOT_FOUND"


class AlreadyExists(OZmapError):
    code, name = 6, "ALREADY_EXISTS"


class PermissionDenied(OZmapError):
    code, name = 7, "PERMISSION_DENIED"


class ResourceExhausted(OZmapError):
    code, name = 8, "RESOURCE_EXHAUSTED"


class FailedPrecondition(OZmapError):
    """The system is not in a state to do it (OLT not linked, CTO required, no credentials)."""
    code, name = 9, "FAILED_PRECONDITION"


class Aborted(OZmapError):
    code, name = 10, "ABORTED"


class OutOfRange(OZmapError):
    code, name = 11, "OUT_OF_RANGE"


class Unimplemented(OZmapError):
    code, name = 12, "UNIMPLEMENTED"


class Internal(OZmapError):
    code, name = 13, "INTERNAL"


class Unavailable(OZmapError):
    """ozmapd cannot be reached, is shutting down, or closed the connection: retry with backoff."""
    code, name = 14, "UNAVAILABLE"


class DataLoss(OZmapError):
    code, name = 15, "DATA_LOSS"


class Unauthenticated(OZmapError):
    """OZmap rejected the configured API key."""
    code, name = 16, "UNAUTHENTICATED"


ERRORS_BY_CODE: Dict[int, Type[OZmapError]] = {
    cls.code: cls for cls in (Cancelled, Unknown, InvalidArgument, DeadlineExceeded, NotFound, AlreadyExists,
                              PermissionDenied, ResourceExhausted, FailedPrecondition, Aborted, OutOfRange,
                              Unimplemented, Internal, Unavailable, DataLoss, Unauthenticated)
}


def error_for(code: int, message: str = "", violations: List[Tuple[str, str]] | None = None) -> OZmapError:
    """The exception for a status code; codes outside 1...16 give an OZmapError carrying the code."""
    cls = ERRORS_BY_CODE.get(code)
    if cls is None:
        return OZmapError(message, violations, code=code)
    return cls(message, violations)
