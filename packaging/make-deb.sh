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

# Depends, each with a minimum version. With dpkg-dev: dpkg-shlibdeps, from the symbols the
# binaries use (the least versions that provide them; it wants a debian/control in its working
# directory: a minimal one in a temporary one). Without: the libraries ozmapd links, each at
# least the upstream version installed here (stricter than needed: the package then asks
# for this machine's release or later). passwd for the postinst's groupadd/useradd --system.
LIBRARIES="libc6 libgcc-s1 libstdc++6 libcurl4 libprotobuf-c1 libsqlite3-0"
PASSWD="passwd (>= 1:4.1)"
if command -v dpkg-shlibdeps >/dev/null 2>&1 && [ "${DEB_DEPENDS:-}" != dpkg-query ]; then
  WORK=$(mktemp -d)
  mkdir "$WORK/debian" && printf 'Source: ozmapd\n\nPackage: ozmapd\nArchitecture: any\n' > "$WORK/debian/control"
  SHLIBS=$(cd "$WORK" && dpkg-shlibdeps -O "$STAGE/usr/bin/ozmapd" "$STAGE/usr/bin/ozmapctl") || { rm -rf "$WORK"; exit 1; }
  rm -rf "$WORK"
  DEPENDS="${SHLIBS#shlibs:Depends=}, $PASSWD"
  FROM=dpkg-shlibdeps
else
  DEPENDS=
  for package in $LIBRARIES; do
    installed=$(dpkg-query -W -f='${Version}' "$package:$ARCH") || { echo "make-deb.sh: $package is not installed" >&2; exit 1; }
    DEPENDS="$DEPENDS$package (>= ${installed%-*}), " # the Debian revision off, any epoch kept
  done
  DEPENDS="$DEPENDS$PASSWD"
  FROM=dpkg-query
fi
echo "== Depends ($FROM): $DEPENDS"
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@SIZE@/$SIZE/" -e "s/@DEPENDS@/$DEPENDS/" \
  "$ROOT/packaging/debian/control" > "$STAGE/DEBIAN/control"

mkdir -p "$OUT_DIR"
dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$OUT_DIR/ozmapd_${VERSION}_${ARCH}.deb"
