#!/usr/bin/env python3
"""Provision an ONU at a CTO, move it to another, deprovision it — with ozmap_client.

    onu_lifecycle.py SOCKET demo OLT ONU SERIAL CTO NEW_CTO   all three, in order
    onu_lifecycle.py SOCKET provision OLT ONU SERIAL CTO      one step each
    onu_lifecycle.py SOCKET assign ONU CTO
    onu_lifecycle.py SOCKET deprovision ONU
    onu_lifecycle.py SOCKET get ONU
    onu_lifecycle.py SOCKET status

Prints one line per call; on a failed call prints its status and exits with its code.
"""
import sys

from ozmap_client import Client, OZmapError, service_pb2


def show(what: str, onu: service_pb2.ONU) -> None:
    print(f"{what}: onu {onu.onu_id} state {service_pb2.ONUState.Name(onu.state)} "
          f"cto {onu.cto_box_name} ({onu.cto_box_id}) ozmap client {onu.ozmap_client_id}")


def main(argv: list) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    socket_path, command, args = argv[1], argv[2], argv[3:]
    try:
        with Client(socket_path, timeout=30) as ozmap:  # ozmapd answers "pending" after 10 s at most
            if (command, len(args)) in (("demo", 5), ("provision", 4)):
                olt, onu, serial, cto = args[:4]
                show("provisioned", ozmap.provision_onu(olt, onu, serial, cto=cto, implanted=True).onu)
                if command == "demo":
                    show("assigned", ozmap.assign_cto(onu, args[4]).onu)
                    show("deprovisioned", ozmap.deprovision_onu(onu).onu)
            elif command == "assign" and len(args) == 2:
                show("assigned", ozmap.assign_cto(args[0], args[1]).onu)
            elif command == "deprovision" and len(args) == 1:
                show("deprovisioned", ozmap.deprovision_onu(args[0]).onu)
            elif command == "get" and len(args) == 1:
                show("onu", ozmap.get_onu(args[0]))
            elif command == "status" and not args:
                status = ozmap.get_status()
                print(f"ozmapd {status.version}, up {status.uptime_ms} ms, {status.box_count} boxes, "
                      f"credentials {status.credentials_state}")
            else:
                print(__doc__, file=sys.stderr)
                return 2
    except OZmapError as error:
        print(f"{command}: {type(error).__name__}: {error}", file=sys.stderr)
        return error.code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
