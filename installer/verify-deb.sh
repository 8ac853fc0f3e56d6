#!/bin/sh
# Prove the .deb from installer/build.sh on this machine, as a user would meet it: install
# it with dpkg (apt-get fetches the Depends), run the installed program (version, headless
# SCP answering DCMTK's echoscu, a procedure step with images through the bundle, the
# window offscreen, and under Xvfb when xvfb-run is present), then remove it and check
# that /opt/mppsconsole is gone while the user's data is untouched. Also unpacks the
# portable tarball and runs it. Run as root, after build.sh; needs dcmtk (echoscu).
set -eu
cd "$(dirname "$0")/.."
. installer/linux/common.sh
export DEBIAN_FRONTEND=noninteractive
[ "$(id -u)" = 0 ] || { echo "verify-deb.sh installs a package: run it as root" >&2; exit 1; }
[ -x /usr/bin/echoscu ] || { echo "verify-deb.sh needs DCMTK: apt-get install -y dcmtk" >&2; exit 1; }

VERSION=$(app_version)
DEB="dist/mppsconsole_$(deb_version "$VERSION")_$DEB_ARCH.deb"
TARBALL="dist/mppsconsole-$VERSION-$TAR_ARCH.tar.gz"
[ -f "$DEB" ] && [ -f "$TARBALL" ] || { echo "$DEB or $TARBALL missing: run installer/build.sh" >&2; exit 1; }
M=/usr/bin/mppsconsole  # the installed one, never a venv's
WORK=$(mktemp -d)
SERVE=""
cleanup() {
    [ -z "$SERVE" ] || kill "$SERVE" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
    echo "verify-deb: FAILED: $*" >&2
    exit 1
}
step() { echo "verify-deb: $*" >&2; }
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

step "install $DEB"
if ! dpkg -i "$DEB" >"$WORK/dpkg.log" 2>&1; then
    step "dpkg -i left dependencies open; apt-get install -f"
    apt-get install -f -y -qq >/dev/null 2>&1 || { apt-get update -qq && apt-get install -f -y -qq >/dev/null; }
fi
dpkg-query -W -f='${Status}\n' mppsconsole | grep -qx "install ok installed" || fail "not installed"
[ "$(readlink "$M")" = /opt/mppsconsole/mppsconsole ] || fail "$M is not the link to /opt"
for f in /usr/share/applications/mppsconsole.desktop \
    /usr/share/icons/hicolor/48x48/apps/mppsconsole.png \
    /usr/share/icons/hicolor/scalable/apps/mppsconsole.svg \
    /usr/share/doc/mppsconsole/examples/sample-worklist.csv; do
    [ -f "$f" ] || fail "$f not installed"
done
if command -v desktop-file-validate >/dev/null; then
    desktop-file-validate /usr/share/applications/mppsconsole.desktop || fail "bad .desktop file"
fi

step "every library of the bundle resolves (the Depends are complete)"
find /opt/mppsconsole -type f \( -name '*.so*' -o -name mppsconsole \) >"$WORK/elves"
while read -r f; do
    LD_LIBRARY_PATH=/opt/mppsconsole/_internal ldd "$f" 2>/dev/null | sed "s|^|$f: |"
done <"$WORK/elves" >"$WORK/ldd"
if grep "not found" "$WORK/ldd"; then fail "libraries missing: add their packages to DEPENDS in build.sh"; fi

step "mppsconsole --version"
[ "$($M --version)" = "mppsconsole $VERSION" ] || fail "version: $($M --version)"

DATA="$WORK/user-data"  # stands for ~/.local/share/mppsconsole: removal must not touch it
PORT=$(free_port)
step "serve on 127.0.0.1:$PORT, echoscu against it"
$M worklist import /usr/share/doc/mppsconsole/examples/sample-worklist.csv --data-dir "$DATA" >/dev/null
$M serve --host 127.0.0.1 --port "$PORT" --data-dir "$DATA" >"$WORK/serve.log" 2>&1 &
SERVE=$!
i=0
until grep -q "listening on 127.0.0.1:$PORT" "$WORK/serve.log"; do
    i=$((i + 1))
    [ $i -lt 100 ] && kill -0 "$SERVE" 2>/dev/null || { cat "$WORK/serve.log" >&2; fail "serve did not start"; }
    sleep 0.1
done
TCP_NODELAY=1 /usr/bin/echoscu -aec MPPSCONSOLE 127.0.0.1 "$PORT" || fail "echoscu got no success"
TO="--to 127.0.0.1:$PORT --aec MPPSCONSOLE --data-dir $WORK/modality"
# shellcheck disable=SC2086
$M worklist query $TO --date today --modality CT | grep -q DEMO0001 || fail "worklist query"
# shellcheck disable=SC2086
UID_=$($M mpps start $TO --accession DEMO0001) || fail "mpps start"
# shellcheck disable=SC2086
$M mpps complete "$UID_" $TO --images 2 >/dev/null 2>&1 || fail "mpps complete with images"
kill -TERM "$SERVE"
wait "$SERVE" || fail "serve exited $? on SIGTERM"
SERVE=""
$M steps list --status COMPLETED --json --data-dir "$DATA" | grep -q "$UID_" || fail "step not stored"

CONFIG="$WORK/config.toml"
printf '[local]\nport = 0\nbind_address = "127.0.0.1"\n' >"$CONFIG"
step "the window, offscreen"
QT_QPA_PLATFORM=offscreen $M gui --smoke-test --data-dir "$DATA" --config "$CONFIG" >"$WORK/gui.out" 2>"$WORK/gui.err" ||
    { cat "$WORK/gui.err" >&2; fail "gui --smoke-test exited non-zero"; }
grep -q "smoke test: window shown and closed" "$WORK/gui.out" || fail "no smoke test line"
if command -v xvfb-run >/dev/null; then
    step "the window on X11 (Xvfb): Qt's xcb plugin loads with the installed libraries"
    xvfb-run -a -s "-screen 0 1280x800x24" env QT_QPA_PLATFORM=xcb \
        $M gui --smoke-test --data-dir "$DATA" --config "$CONFIG" >"$WORK/xcb.out" 2>"$WORK/xcb.err" ||
        { cat "$WORK/xcb.err" >&2; fail "gui on xcb exited non-zero"; }
    grep -q "smoke test: window shown and closed" "$WORK/xcb.out" || fail "no smoke test line on xcb"
fi

step "dpkg -r mppsconsole"
(cd "$DATA" && find . -type f -exec sha256sum {} + | sort) >"$WORK/data.before"
dpkg -r mppsconsole >/dev/null
dpkg-query -W -f='${Status}\n' mppsconsole 2>/dev/null | grep -q "ok installed" && fail "still installed"
[ ! -e /opt/mppsconsole ] || fail "/opt/mppsconsole left behind"
[ ! -e "$M" ] && [ ! -L "$M" ] || fail "$M left behind"
[ ! -e /usr/share/applications/mppsconsole.desktop ] || fail ".desktop left behind"
(cd "$DATA" && find . -type f -exec sha256sum {} + | sort) >"$WORK/data.after"
cmp -s "$WORK/data.before" "$WORK/data.after" || fail "the user's data changed on removal"
[ -s "$WORK/data.after" ] || fail "no user data to compare"

step "the portable tarball runs from wherever it is unpacked"
tar -C "$WORK" -xzf "$TARBALL"
[ "$("$WORK/mppsconsole-$VERSION/mppsconsole" --version)" = "mppsconsole $VERSION" ] || fail "tarball"

echo "verify-deb: OK: installed, served, echoed, stepped, showed the window, removed cleanly"
