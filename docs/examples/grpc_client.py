#!/usr/bin/env python3
"""ozmapd over standard gRPC (`grpc_socket`, docs/CLIENTS.md) with stock grpcio and stubs
generated from proto/ by grpcio-tools:

    python -m grpc_tools.protoc -I proto --python_out=OUT --grpc_python_out=OUT \\
        proto/archolt/ozmap/v1/wire.proto proto/archolt/ozmap/v1/service.proto
    PYTHONPATH=OUT python docs/examples/grpc_client.py /run/ozmapd/grpc.sock

prints ozmapd's version and its methods. With --check it also checks what OZmapGRPCTests
expects of the listener (each line "ok: ..." or "FAIL: ...", exit status 1 on any failure):
a bad request is INVALID_ARGUMENT naming its field, both from a handler and from the
request-text rule every call runs through, a request over max_frame_bytes is refused,
and a call under a deadline is answered.
"""
import sys

import grpc

from archolt.ozmap.v1 import service_pb2, service_pb2_grpc


def main(socket_path, check):
    # "unix:" + an absolute path; grpc's own DNS-free Unix socket resolver.
    with grpc.insecure_channel("unix:" + socket_path) as channel:
        ozmapd = service_pb2_grpc.OZmapIntegrationStub(channel)
        status = ozmapd.GetStatus(service_pb2.GetStatusRequest(), timeout=10)
        print(f"ozmapd {status.version}, up {status.uptime_ms} ms, framed socket {status.socket_path}")
        methods = ozmapd.ListMethods(service_pb2.ListMethodsRequest(), timeout=10).methods
        for method in methods:
            print(f"  {method.path}")
        if check:
            return run_checks(ozmapd, methods)
    return 0


def run_checks(ozmapd, methods):
    failures = 0

    def expect(condition, what):
        nonlocal failures
        print(("ok: " if condition else "FAIL: ") + what)
        failures += 0 if condition else 1

    names = {method.name for method in methods}
    expect(len(methods) == 23 and {"GetStatus", "ProvisionONU", "ImportONUs"} <= names,
           f"ListMethods lists the service's 23 methods ({len(methods)})")

    def refused(call, request, field, what):
        try:
            call(request, timeout=10)
            expect(False, f"{what}: answered instead of refused")
        except grpc.RpcError as error:
            expect(error.code() == grpc.StatusCode.INVALID_ARGUMENT and error.details().startswith(field + ":"),
                   f"{what}: {error.code().name} {error.details()!r}")

    refused(ozmapd.SetCredentials, service_pb2.SetCredentialsRequest(api_url="", api_key="k"), "api_url",
            "an empty api_url is INVALID_ARGUMENT naming api_url")
    refused(ozmapd.GetONU, service_pb2.GetONURequest(onu_id="onu\x07"), "onu_id",
            "a control character is INVALID_ARGUMENT naming onu_id (the request-text rule)")

    try:
        ozmapd.GetONU(service_pb2.GetONURequest(onu_id="x" * (5 << 20)), timeout=10)
        expect(False, "a 5 MiB request: answered")
    except grpc.RpcError as error:
        # The transport resets the stream as the message passes the limit: grpcio reports the
        # reset as CANCELLED, other libraries as RESOURCE_EXHAUSTED.
        expect(error.code() in (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.CANCELLED),
               f"a 5 MiB request is refused (max_frame_bytes): {error.code().name}")

    credentials = ozmapd.GetCredentials(service_pb2.GetCredentialsRequest(), timeout=0.5).credentials
    expect(not credentials.api_key_set, "GetCredentials under a 500 ms deadline (grpc-timeout): no key set")
    return 1 if failures else 0


if __name__ == "__main__":
    arguments = [argument for argument in sys.argv[1:] if argument != "--check"]
    if len(arguments) != 1:
        sys.exit(f"usage: {sys.argv[0]} [--check] GRPC_SOCKET_PATH")
    sys.exit(main(arguments[0], "--check" in sys.argv[1:]))
