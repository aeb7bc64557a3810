#!/usr/bin/env bash
# make demo: the OZmap simulator (a few hundred CTOs on two OLTs) and ozmapd
# pointed at it, state in ./demo-state. Ctrl-C stops both.
set -euo pipefail
bin=${1:?usage: demo.sh BIN_DIR [DEMO_DIR]}
dir=${2:-$PWD/demo-state}
mkdir -p "$dir"
chmod 700 "$dir"
key_file=$dir/ozmap-demo.key
[ -s "$key_file" ] || (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$key_file")

"$bin/ozmap-sim" --host 127.0.0.1 --port 0 --olts 2 --boxes 300 --api-key-file "$key_file" > "$dir/ozmap-sim.out" 2> "$dir/ozmap-sim.log" &
sim=$!
trap 'kill $sim 2>/dev/null; wait $sim 2>/dev/null || true' EXIT
url=
for _ in $(seq 1 100); do
  url=$(sed -n 's/^ozmap-sim listening on \(http[^ ]*\).*/\1/p' "$dir/ozmap-sim.out")
  [ -n "$url" ] && break
  kill -0 $sim 2>/dev/null || { cat "$dir/ozmap-sim.log"; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "ozmap-sim did not start"; exit 1; }
echo "== OZmap simulator at $url (key in $key_file)"

export OZMAPD_SOCKET=$dir/ozmapd.sock
OZMAP_API_URL=$url OZMAP_API_KEY_FILE=$key_file \
  "$bin/ozmapd" --socket "$OZMAPD_SOCKET" --state-dir "$dir/state" &
daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null || true; kill $sim 2>/dev/null; wait $sim 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -S "$OZMAPD_SOCKET" ] && break; sleep 0.1; done

"$bin/ozmapctl" sync --full --wait
"$bin/ozmapctl" boxes list --query cto-01 --page-size 5

# A demo ONU, provisioned at a CTO: ozmapd creates its client and property in the simulator.
olt=$("$bin/ozmapctl" ozmap olts --json | python3 -c 'import json,sys; print(sorted(json.load(sys.stdin)["olts"], key=lambda o: o["name"])[0]["id"])')
"$bin/ozmapctl" olt link demo-olt "$olt" --require-cto
"$bin/ozmapctl" onu provision --olt demo-olt --onu demo-0001 --serial ZTEG00D3M001 --cto "cto 01 001" --pppoe demo@isp --implanted
echo "== the client as the OZmap simulator holds it (GET properties/client/demo-0001):"
python3 - "$url" "$key_file" <<'PY'
import json, sys, urllib.request
url, key_file = sys.argv[1], sys.argv[2]
request = urllib.request.Request(url + "/properties/client/demo-0001", headers={"Authorization": open(key_file).read().strip()})
for prop in json.load(urllib.request.urlopen(request)):
    client = prop["client"]
    print(f"   property {prop['id']} at box {prop['box']} port {prop['connections'][0]['port']}: "
          f"client {client['code']} '{client['name']}' implanted={client['implanted']}")
PY

cat <<MSG

== ozmapd is running on $OZMAPD_SOCKET against the simulator. In another terminal:
   export OZMAPD_SOCKET=$OZMAPD_SOCKET
   $bin/ozmapctl status
   $bin/ozmapctl ozmap olts
   $bin/ozmapctl boxes list --query cto-01
   $bin/ozmapctl boxes show CTO-01-001
   $bin/ozmapctl onu show demo-0001
   $bin/ozmapctl onu assign demo-0001 CTO-01-002
   $bin/ozmapctl onu deprovision demo-0001
   $bin/ozmapctl log
== Ctrl-C stops ozmapd and the simulator.
MSG
wait $daemon
