#!/bin/sh
# Builds the server's Debian package from a built sync-server binary:
#
#   installers/server/build-deb.sh BINARY OUTDIR [VERSION]
#
#   cargo build --release -p sync-server --bin sync-server
#   installers/server/build-deb.sh target/release/sync-server target/deb
#
# writes OUTDIR/snapkasir-server_<VERSION>_<arch>.deb and prints its path. VERSION defaults to
# sync-server's version (Cargo.toml); the architecture is dpkg's (`dpkg --print-architecture`),
# so build on the architecture you deploy to. Needs only Debian's dpkg-dev (dpkg-deb,
# dpkg-shlibdeps) and binutils (strip): no cargo-deb, no root (dpkg-deb --root-owner-group).
# DEB_MAINTAINER sets the Maintainer field (default: a placeholder address); DEB_COMPRESSION
# dpkg-deb's compressor (default xz, the smallest; the tests take none, which is instant).
set -eu

usage() { echo "usage: $0 BINARY OUTDIR [VERSION]" >&2; exit 2; }
[ $# -ge 2 ] && [ $# -le 3 ] || usage
BINARY=$1
OUTDIR=$2
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

[ -f "$BINARY" ] && [ -x "$BINARY" ] || { echo "$0: $BINARY is not an executable file" >&2; exit 1; }
for tool in dpkg-deb dpkg-shlibdeps strip; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "$0: $tool not found: apt-get install dpkg-dev binutils" >&2
        exit 1
    }
done

if [ $# -eq 3 ]; then
    VERSION=$3
else
    # sync-server/Cargo.toml's version, or the workspace's when it inherits it
    # (version.workspace = true).
    VERSION=$(sed -n '/^\[package\]/,/^\[/ s/^version *= *"\(.*\)"/\1/p' "$ROOT/sync-server/Cargo.toml")
    [ -n "$VERSION" ] ||
        VERSION=$(sed -n '/^\[workspace.package\]/,/^\[/ s/^version *= *"\(.*\)"/\1/p' "$ROOT/Cargo.toml")
fi
case "$VERSION" in
    [0-9]*) ;;
    *) echo "$0: bad version '$VERSION' (a Debian version starts with a digit)" >&2; exit 1 ;;
esac
ARCH=$(dpkg --print-architecture)
PACKAGE=snapkasir-server

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# dpkg-shlibdeps wants a source tree: debian/control, and the files in debian/<package>/.
STAGE=$WORK/debian/$PACKAGE
umask 022
mkdir -p "$STAGE/DEBIAN" "$STAGE/usr/bin" "$STAGE/lib/systemd/system" "$STAGE/etc/snapkasir" \
    "$STAGE/usr/share/doc/$PACKAGE"

# The files.
strip --strip-unneeded -o "$STAGE/usr/bin/sync-server" "$BINARY"
chmod 0755 "$STAGE/usr/bin/sync-server"
install -m 0644 "$HERE/snapkasir-server.service" "$STAGE/lib/systemd/system/$PACKAGE.service"
# 0640: it may hold secrets; postinst gives it to group snapkasir.
install -m 0640 "$HERE/config.toml" "$STAGE/etc/snapkasir/config.toml"
install -m 0644 "$HERE/README.md" "$STAGE/usr/share/doc/$PACKAGE/README.md"
cat >"$STAGE/usr/share/doc/$PACKAGE/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: SnapKasir

Files: *
License: $(sed -n '/^\[workspace.package\]/,/^\[/ s/^license *= *"\(.*\)"/\1/p' "$ROOT/Cargo.toml")
COPYRIGHT
chmod 0644 "$STAGE/usr/share/doc/$PACKAGE/copyright"

# The maintainer scripts and the conffile list.
for script in postinst prerm postrm; do
    install -m 0755 "$HERE/debian/$script" "$STAGE/DEBIAN/$script"
done
echo /etc/snapkasir/config.toml >"$STAGE/DEBIAN/conffiles"
chmod 0644 "$STAGE/DEBIAN/conffiles"

# Depends: the shared libraries the binary links (libc6, libgcc-s1), as dpkg-shlibdeps finds
# them on this machine; the maintainer scripts' tools (adduser or passwd's useradd; setpriv
# is util-linux, essential; deb-systemd-helper is init-system-helpers).
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$PACKAGE" "$PACKAGE" >"$WORK/debian/control"
SHLIBS=$(cd "$WORK" && dpkg-shlibdeps -O -e"debian/$PACKAGE/usr/bin/sync-server" | sed -n 's/^shlibs:Depends=//p')
[ -n "$SHLIBS" ] || { echo "$0: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
SIZE=$(du -k -s "$STAGE" | cut -f1)
cat >"$STAGE/DEBIAN/control" <<CONTROL
Package: $PACKAGE
Version: $VERSION
Architecture: $ARCH
Maintainer: ${DEB_MAINTAINER:-SnapKasir maintainers <maintainers@snapkasir.invalid>}
Installed-Size: $SIZE
Depends: $SHLIBS, adduser | passwd, init-system-helpers (>= 1.54~)
Section: net
Priority: optional
Description: SnapKasir sync server (offline-first point of sale)
 The server of SnapKasir: tills sync their sales, catalog and stock with it
 over WebSocket (automerge-repo), and owners manage their stores in its web
 dashboard and API.
 .
 This package runs it as the systemd service snapkasir-server under its own
 user, with its settings in /etc/snapkasir/config.toml and the embedded
 SQLite store in /var/lib/snapkasir; PostgreSQL is one setting (database_url).
CONTROL
chmod 0644 "$STAGE/DEBIAN/control"

mkdir -p "$OUTDIR"
DEB=$OUTDIR/${PACKAGE}_${VERSION}_${ARCH}.deb
dpkg-deb --root-owner-group -Z"${DEB_COMPRESSION:-xz}" --build "$STAGE" "$DEB" >/dev/null
echo "$DEB"
