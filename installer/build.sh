#!/bin/sh
# Build MPPS Console for Linux from this checkout: the one-folder bundle (PyInstaller), a
# portable tarball and a Debian package. Output in dist/:
#   dist/mppsconsole/                                the bundle (run dist/mppsconsole/mppsconsole)
#   dist/mppsconsole-<version>-linux-x86_64.tar.gz   the bundle as a portable archive
#   dist/mppsconsole_<version>_amd64.deb             installs to /opt/mppsconsole
# Needs Debian's binutils (PyInstaller reads ELF files with objdump; strip) and dpkg
# (dpkg-deb), both present on any Debian with build tools; installs the Python side
# (pyproject's `build` extra: PyInstaller) into .venv. installer/verify-deb.sh proves
# the .deb. Windows and macOS are built on those systems: see installer/README.md.
set -eu
cd "$(dirname "$0")/.."
PY=.venv/bin/python  # scripts/setup-venv makes it below; PyInstaller runs from it
. installer/linux/common.sh
started=$(date +%s)
last=$started
lap() {  # how long each stage took: the build runs in CI, where time is budgeted
    now=$(date +%s)
    echo "[build] $1: $((now - last)) s" >&2
    last=$now
}

# The bundle is measured against this budget; see installer/README.md for why 180.
BUDGET_MIB=${BUDGET_MIB:-180}
# Direct run-time needs of the bundle that it does not carry: the desktop stack Qt loads
# (X11/xcb incl. DESIGN.md §5's xcb-cursor/icccm/keysyms, xkbcommon, fonts, GL/EGL,
# Wayland, D-Bus, GLib). Found by listing the NEEDED entries of every ELF file in the
# bundle that no bundled file provides; verify-deb.sh fails if one is ever missing.
DEPENDS="libdbus-1-3, libegl1, libfontconfig1, libfreetype6, libgl1,
 libglib2.0-0 | libglib2.0-0t64, libwayland-client0, libwayland-cursor0, libwayland-egl1,
 libx11-6, libx11-xcb1, libxcb1, libxcb-cursor0, libxcb-glx0, libxcb-icccm4, libxcb-image0,
 libxcb-keysyms1, libxcb-randr0, libxcb-render0, libxcb-render-util0, libxcb-shape0,
 libxcb-shm0, libxcb-sync1, libxcb-util1, libxcb-xfixes0, libxcb-xkb1, libxkbcommon0,
 libxkbcommon-x11-0, libzstd1"

for tool in objdump strip dpkg-deb; do
    command -v "$tool" >/dev/null || {
        echo "build.sh needs $tool: apt-get install -y binutils dpkg" >&2
        exit 1
    }
done
scripts/setup-venv build
VERSION=$(app_version)
DEBVERSION=$(deb_version "$VERSION")
echo "building MPPS Console $VERSION" >&2
lap "venv with the build extra"

# 1. The bundle.
rm -rf build/pyinstaller dist/mppsconsole
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller installer/mppsconsole.spec
BUNDLE=dist/mppsconsole
# A self-built CPython leaves libpython and its extension modules with symbol tables
# (~25 MiB). The wheels' libraries are left alone: stripping what auditwheel patched
# breaks it (see the spec).
strip --strip-unneeded --remove-section=.comment --remove-section=.note \
    "$BUNDLE"/_internal/libpython3*.so* "$BUNDLE"/_internal/python3*/lib-dynload/*.so
"$BUNDLE/mppsconsole" --version
lap "bundle"
bundle_mib=$(du -sm "$BUNDLE" | cut -f1)
if [ "$bundle_mib" -gt "$BUDGET_MIB" ]; then
    echo "bundle is $bundle_mib MiB, over the budget of $BUDGET_MIB MiB:" >&2
    du -sm "$BUNDLE"/_internal/* | sort -n | tail -10 >&2
    exit 1
fi

# Reproducible archives: fixed owner, order and times (the last commit's, if any).
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH
TAR_FLAGS="--sort=name --owner=0 --group=0 --numeric-owner --mtime=@$SOURCE_DATE_EPOCH"

# 2. The portable tarball: one top folder, mppsconsole-<version>/.
TARBALL="dist/mppsconsole-$VERSION-$TAR_ARCH.tar.gz"
# shellcheck disable=SC2086
tar -C dist $TAR_FLAGS --transform "s,^mppsconsole,mppsconsole-$VERSION," -cf - mppsconsole |
    gzip -n -6 >"$TARBALL"
lap "tarball"

# 3. The Debian package.
ROOT=build/deb/root
rm -rf build/deb
mkdir -p "$ROOT/DEBIAN" "$ROOT/opt" "$ROOT/usr/bin" "$ROOT/usr/share/applications" \
    "$ROOT/usr/share/doc/mppsconsole/examples" "$ROOT/usr/share/icons/hicolor/scalable/apps"
cp -a "$BUNDLE" "$ROOT/opt/mppsconsole"
ln -s /opt/mppsconsole/mppsconsole "$ROOT/usr/bin/mppsconsole"
cp installer/linux/mppsconsole.desktop "$ROOT/usr/share/applications/"
ICONS=mppsconsole/data/icons
for png in "$ICONS"/mppsconsole-*.png; do
    size=$(basename "$png" .png | sed 's/mppsconsole-//')
    mkdir -p "$ROOT/usr/share/icons/hicolor/${size}x${size}/apps"
    cp "$png" "$ROOT/usr/share/icons/hicolor/${size}x${size}/apps/mppsconsole.png"
done
cp "$ICONS/mppsconsole.svg" "$ROOT/usr/share/icons/hicolor/scalable/apps/mppsconsole.svg"
cp installer/linux/copyright "$ROOT/usr/share/doc/mppsconsole/copyright"
cp mppsconsole/data/samples/sample-worklist.* "$ROOT/usr/share/doc/mppsconsole/examples/"
cp mppsconsole/data/profiles/*.toml "$ROOT/usr/share/doc/mppsconsole/examples/"
cp mppsconsole/data/scenarios/*.toml "$ROOT/usr/share/doc/mppsconsole/examples/"
cp installer/linux/postinst installer/linux/postrm "$ROOT/DEBIAN/"
chmod -R u=rwX,go=rX "$ROOT"
chmod 0755 "$ROOT/DEBIAN/postinst" "$ROOT/DEBIAN/postrm"
LIBC=$(find "$BUNDLE" -type f \( -name '*.so*' -o -name mppsconsole \) -exec objdump -T {} + \
    2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
cat >"$ROOT/DEBIAN/control" <<CONTROL
Package: mppsconsole
Version: $DEBVERSION
Architecture: $DEB_ARCH
Maintainer: MPPS Console maintainers <maintainers@users.noreply.r-seed-c80771d5.example>
Installed-Size: $(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)
Depends: libc6 (>= $LIBC), $DEPENDS
Recommends: fonts-dejavu-core | fonts-liberation
Suggests: fonts-noto-cjk | fonts-wqy-microhei, dcmtk
Section: science
Priority: optional
Description: DICOM Scheduled Workflow console: worklist, MPPS, storage, commitment
 MPPS Console plays both sides of the DICOM Scheduled Workflow on one screen: a
 department node (Verification, Modality Worklist, MPPS, Storage and Storage
 Commitment SCPs) and a modality simulator (echo, worklist query, start, complete
 or discontinue procedure steps, generate and send test images, request storage
 commitment). Every procedure step and message is shown live and kept in a local
 SQLite store. The same program runs the window and the command line
 ("mppsconsole --help"). Self-contained: Python and Qt are bundled in /opt/mppsconsole.
CONTROL
DEB="dist/mppsconsole_${DEBVERSION}_$DEB_ARCH.deb"
# xz at level 1: 26 s and ~47 MiB here; level 6 saves 4 MiB for four times the time
# (dpkg-deb compresses on one thread).
dpkg-deb --root-owner-group -Zxz -z1 --build "$ROOT" "$DEB" >/dev/null
lap "Debian package"

finished=$(date +%s)
echo "built in $((finished - started)) s:"
echo "  bundle   $(du -sh "$BUNDLE" | cut -f1)  $BUNDLE/ (budget $BUDGET_MIB MiB)"
echo "  tarball  $(du -h "$TARBALL" | cut -f1)  $TARBALL"
echo "  deb      $(du -h "$DEB" | cut -f1)  $DEB"
