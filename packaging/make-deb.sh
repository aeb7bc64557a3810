#!/bin/sh
# Builds the Debian package with dpkg-deb (`make deb`; docs/INSTALL.md): the release
# binaries (Swift runtime linked in statically), the units in /usr/lib/systemd/system,
# /etc/ozmapd/ozmapd.conf as a conffile, and the maintainer scripts in packaging/debian/.
#   make-deb.sh BIN_DIR OUT_DIR   → OUT_DIR/ozmapd_<version>_<arch>.deb
set -eu
BIN_DIR=$1
OUT_DIR=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VERSION=$(sed -n 's/.*static let version = "\(.*\)".*/\1/p' "$ROOT/Sources/Daemon/OZmapDaemon/Daemon.swift")
ARCH=$(dpkg --print-architecture)
STAGE=$OUT_DIR/deb-root
rm -rf "$STAGE" && mkdir -p "$STAGE/DEBIAN"

DESTDIR=$STAGE PREFIX=/usr SYSCONFDIR=/etc UNITDIR=/usr/lib/systemd/system DOCDIR=/usr/share/doc/ozmapd \
  "$ROOT/packaging/install.sh" "$BIN_DIR" >/dev/null

install -m 0644 "$ROOT/packaging/debian/conffiles" "$STAGE/DEBIAN/conffiles"
for script in postinst prerm postrm; do install -m 0755 "$ROOT/packaging/debian/$script" "$STAGE/DEBIAN/$script"; done
SIZE=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@SIZE@/$SIZE/" "$ROOT/packaging/debian/control" > "$STAGE/DEBIAN/control"

mkdir -p "$OUT_DIR"
dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$OUT_DIR/ozmapd_${VERSION}_${ARCH}.deb"
