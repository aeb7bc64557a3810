#!/bin/sh
# Installs ozmapd from a release build (`make install`; docs/INSTALL.md has the file list).
#   install.sh BIN_DIR   with PREFIX, DESTDIR, SYSCONFDIR, UNITDIR, DOCDIR from the environment.
set -eu
BIN_DIR=$1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
SYSCONFDIR=${SYSCONFDIR:-/etc}
UNITDIR=${UNITDIR:-$PREFIX/lib/systemd/system}
DOCDIR=${DOCDIR:-$PREFIX/share/doc/ozmapd}
DOCS="README.md docs/INSTALL.md docs/OPERATIONS.md docs/PROTOCOL.md docs/OZMAP.md docs/INTEGRATION.md docs/SECURITY.md docs/RELIABILITY.md"

install -d -m 0755 "$DESTDIR$PREFIX/bin" "$DESTDIR$UNITDIR" "$DESTDIR$SYSCONFDIR/ozmapd" "$DESTDIR$DOCDIR"
install -m 0755 "$BIN_DIR/ozmapd" "$BIN_DIR/ozmapctl" "$DESTDIR$PREFIX/bin/"
# Debug info out (121 MB → 93 MB for ozmapd; the Swift runtime and ICU data are most of the rest).
if command -v strip >/dev/null 2>&1; then strip --strip-debug "$DESTDIR$PREFIX/bin/ozmapd" "$DESTDIR$PREFIX/bin/ozmapctl"; fi

# The units name the installed paths.
sed -e "s#/usr/bin/ozmapd#$PREFIX/bin/ozmapd#" -e "s#/etc/ozmapd/#$SYSCONFDIR/ozmapd/#" \
    -e "s#/usr/share/doc/ozmapd/#$DOCDIR/#" "$ROOT/packaging/systemd/ozmapd.service" > "$DESTDIR$UNITDIR/ozmapd.service"
sed -e "s#/usr/share/doc/ozmapd/#$DOCDIR/#" "$ROOT/packaging/systemd/ozmapd.socket" > "$DESTDIR$UNITDIR/ozmapd.socket"
chmod 0644 "$DESTDIR$UNITDIR/ozmapd.service" "$DESTDIR$UNITDIR/ozmapd.socket"

# An operator's edited config is never overwritten.
if [ -e "$DESTDIR$SYSCONFDIR/ozmapd/ozmapd.conf" ]; then
  echo "== keeping the existing $DESTDIR$SYSCONFDIR/ozmapd/ozmapd.conf (the new default: $DESTDIR$DOCDIR/ozmapd.conf)"
else
  install -m 0644 "$ROOT/packaging/ozmapd.conf" "$DESTDIR$SYSCONFDIR/ozmapd/ozmapd.conf"
fi
install -m 0644 "$ROOT/packaging/ozmapd.conf" "$DESTDIR$DOCDIR/ozmapd.conf"
for doc in $DOCS; do install -m 0644 "$ROOT/$doc" "$DESTDIR$DOCDIR/"; done
echo "== installed ozmapd under ${DESTDIR:-/}$PREFIX (units in $UNITDIR, config in $SYSCONFDIR/ozmapd)"
