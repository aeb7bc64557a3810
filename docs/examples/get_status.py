#!/usr/bin/env python3
"""A complete ozmapd client in plain Python (no protobuf library): calls GetStatus
and prints the status code and the raw response fields. See docs/PROTOCOL.md."""
import socket
import struct
import sys


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number, wire_type, payload):
    key = varint(number << 3 | wire_type)
    if wire_type == 0:
        return key + varint(payload)
    return key + varint(len(payload)) + payload  # wire type 2: length-delimited


def parse(data):
    """Yields (field number, value) pairs; values are ints or bytes."""
    i = 0
    while i < len(data):
        key, i = read_varint(data, i)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, i = read_varint(data, i)
        elif wire_type == 2:
            length, i = read_varint(data, i)
            value, i = data[i:i + length], i + length
        elif wire_type == 1:
            value, i = data[i:i + 8], i + 8
        elif wire_type == 5:
            value, i = data[i:i + 4], i + 4
        else:
            raise ValueError("bad wire type %d" % wire_type)
        yield number, value


def read_varint(data, i):
    shift = result = 0
    while True:
        byte = data[i]
        i += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, i


def recv_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("ozmapd closed the connection")
        data += chunk
    return data


path = sys.argv[1] if len(sys.argv) > 1 else "/run/ozmapd/ozmapd.sock"
envelope = (field(1, 0, 1)                                                   # call_id = 1
            + field(2, 2, b"/archolt.ozmap.v1.OZmapIntegration/GetStatus")  # method
            + field(3, 0, 5000))                                             # timeout_ms; payload: empty GetStatusRequest
with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
    sock.connect(path)
    sock.sendall(struct.pack(">I", len(envelope)) + envelope)
    (length,) = struct.unpack(">I", recv_exactly(sock, 4))
    response = dict(parse(recv_exactly(sock, length)))

status = dict(parse(response.get(2, b"")))           # ResponseEnvelope.status
code = status.get(1, 0)
print("call_id", response.get(1, 0), "status", code, status.get(2, b"").decode())
if code == 0:
    for number, value in parse(response.get(3, b"")):  # GetStatusResponse fields
        print(number, value.decode() if isinstance(value, bytes) else value)
sys.exit(code)
