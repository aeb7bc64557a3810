#!/bin/sh
# Proves that `make proto-check` (part of `make test`) fails when a proto field is edited
# without `make proto`, and passes on the unedited proto — so the check cannot be vacuous.
# It renames one field of a copy of proto/ and points the check at the copy: every
# generated artefact (protoc-c's C, the generated Swift, the Python client's modules)
# must then be reported stale.
set -u
make=${MAKE:-make}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r proto "$tmp/same"
cp -r proto "$tmp/edited"
file="$tmp/edited/archolt/ozmap/v1/service.proto"
grep -q 'string serial_number = ' "$file" || { echo "proto-check-test: no serial_number field to rename in $file"; exit 1; }
sed -i '0,/string serial_number = /s//string serial_no = /' "$file"

if ! $make --no-print-directory proto-check PROTO_DIR="$tmp/same" >"$tmp/same.log" 2>&1; then
    cat "$tmp/same.log"; echo "proto-check-test: proto-check failed on an unedited copy of proto/"; exit 1
fi
if $make --no-print-directory -k proto-check PROTO_DIR="$tmp/edited" >"$tmp/edited.log" 2>&1; then
    cat "$tmp/edited.log"; echo "proto-check-test: proto-check passed with serial_number renamed and nothing regenerated"; exit 1
fi
for stale in 'stale generated file: .*\.pb-c\.' 'stale generated Swift' 'stale generated file: .*_pb2\.py'; do
    grep -q "$stale" "$tmp/edited.log" || { cat "$tmp/edited.log"; echo "proto-check-test: no '$stale' reported"; exit 1; }
done
echo "== proto-check-test: a proto field renamed without 'make proto' fails proto-check (C, Swift and Python reported stale)"
