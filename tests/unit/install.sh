#!/bin/bash
# make install / make uninstall, on the host (no CAN, no root needed):
#
#   tests/unit/install.sh BUILDDIR
#
# 1. DESTDIR=scratch PREFIX=/usr: every file where a distribution wants it,
#    the units naming /usr/sbin/cand and /etc/cand.conf, the sysusers and
#    tmpfiles entries doing their job in that root (systemd-sysusers and
#    systemd-tmpfiles --root), an existing /etc/cand.conf kept, a program
#    built against the installed cand.h and libcand; make uninstall then
#    leaves no file behind.
# 2. PREFIX=scratch (no DESTDIR), so that the paths in the units are real
#    here: systemd-analyze verify passes on them, man pages included.
set -u

BUILD=${1:?usage: $0 BUILDDIR}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO" || exit 2
T=$(mktemp -d /tmp/cand-install.XXXXXX)
trap 'rm -rf "$T"' EXIT
passed=0
failed=0

ok() {
	if "$@"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: install: $*" >&2
	fi
}
has() { [ -e "$1" ] || { echo "  missing: $1" >&2; return 1; }; }
grep_in() { grep -q -- "$1" "$2" || { echo "  '$1' not in $2:" >&2; cat "$2" >&2; return 1; }; }

# ---- 1: a distribution's layout ----
D=$T/dest
make -s --no-print-directory install DESTDIR="$D" PREFIX=/usr BUILD="$BUILD" >"$T/install.log" 2>&1 ||
	{ cat "$T/install.log"; ok false; }
for f in usr/sbin/cand usr/bin/canctl usr/lib/libcand.a usr/lib/libcand.so \
	usr/lib/libcand.so.1 usr/include/cand.h usr/lib/pkgconfig/libcand.pc \
	usr/lib/systemd/system/cand.service usr/lib/systemd/system/cand.socket \
	usr/lib/systemd/system/cand-socketcand.socket \
	usr/lib/sysusers.d/cand.conf usr/lib/tmpfiles.d/cand.conf \
	usr/share/cand/cand.conf etc/cand.conf usr/share/man/man8/cand.8 \
	usr/share/man/man1/canctl.1 usr/share/man/man5/cand.conf.5 \
	usr/share/bash-completion/completions/canctl; do
	ok has "$D/$f"
done
ok [ -x "$D/usr/sbin/cand" ]
# python-can's interface, where Debian's python3 looks for /usr.
PYD=$D/usr/lib/python3/dist-packages
ok has "$PYD/can_cand/__init__.py"
ok grep_in 'cand = can_cand:CandBus' "$PYD"/python_can_cand-*.dist-info/entry_points.txt
ok grep_in '"/usr/lib/libcand.so.1"' "$PYD/can_cand/_paths.py"
ok grep_in 'ExecStart=/usr/sbin/cand -f -c /etc/cand.conf' "$D/usr/lib/systemd/system/cand.service"
ok grep_in 'ListenStream=/run/cand.sock' "$D/usr/lib/systemd/system/cand.socket"
ok grep_in 'prefix=/usr' "$D/usr/lib/pkgconfig/libcand.pc"

# The sysusers entry makes the user and group in that root.
if command -v systemd-sysusers >/dev/null; then
	ok systemd-sysusers --root="$D" "$D/usr/lib/sysusers.d/cand.conf" >/dev/null 2>&1
	ok grep_in '^cand:' "$D/etc/passwd"
	ok grep_in '^can:' "$D/etc/group"
fi
# The tmpfiles entry restores a missing /etc/cand.conf from the packaged one.
if command -v systemd-tmpfiles >/dev/null; then
	mv "$D/etc/cand.conf" "$T/saved.conf"
	ok systemd-tmpfiles --root="$D" --create "$D/usr/lib/tmpfiles.d/cand.conf"
	ok cmp -s etc/cand.conf "$D/etc/cand.conf"
	mv "$T/saved.conf" "$D/etc/cand.conf"
fi

# A client against the installed header and library, through pkg-config.
cat >"$T/client.c" <<'C'
#include <cand.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
	cand_t *h;
	/* No daemon on this socket: a clean CAND_ECONNECT. */
	int rc = cand_connect(&h, "/nonexistent/cand.sock");
	puts(cand_strerror(rc));
	return rc == CAND_ECONNECT ? 0 : 1;
}
C
flags=$(PKG_CONFIG_SYSROOT_DIR="$D" PKG_CONFIG_PATH="$D/usr/lib/pkgconfig" \
	pkg-config --cflags --libs libcand 2>"$T/pc.err")
ok [ -n "$flags" ]
# shellcheck disable=SC2086 # flags are words
ok cc -o "$T/client" "$T/client.c" $flags -Wl,-rpath,"$D/usr/lib"
ok "$T/client" >/dev/null

# python-can finds the installed interface, and it loads the installed
# library (named by $CAND_LIBRARY: this root is not /).
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import can' 2>/dev/null; then
	ok env PYTHONPATH="$PYD" CAND_LIBRARY="$D/usr/lib/libcand.so.1" PYTHONWARNINGS=ignore \
		/usr/bin/python3 -c '
import can
try:
    can.Bus(interface="cand", channel="vcan0", socket="/nonexistent/cand.sock")
except can.CanInitializationError as e:
    assert "cannot reach cand at /nonexistent/cand.sock" in str(e), e
else:
    raise SystemExit("no error without a daemon")
'
fi

# An administrator's config survives install and uninstall.
echo "# changed here" >>"$D/etc/cand.conf"
make -s --no-print-directory install DESTDIR="$D" PREFIX=/usr BUILD="$BUILD" >/dev/null 2>&1
ok grep_in '# changed here' "$D/etc/cand.conf"
make -s --no-print-directory uninstall DESTDIR="$D" PREFIX=/usr BUILD="$BUILD" >"$T/uninstall.log" 2>&1
ok grep_in 'keeping the changed' "$T/uninstall.log"
ok grep_in '# changed here' "$D/etc/cand.conf"
rm -f "$D/etc/cand.conf" "$D"/etc/passwd* "$D"/etc/group* "$D"/etc/shadow* "$D"/etc/gshadow* "$D"/etc/.pwd.lock
left=$(find "$D" \( -type f -o -type l \) | sed "s|^$D||")
ok [ -z "$left" ] || echo "  left behind by uninstall: $left" >&2

# An unchanged config goes with uninstall.
make -s --no-print-directory install DESTDIR="$D" PREFIX=/usr BUILD="$BUILD" >/dev/null 2>&1
make -s --no-print-directory uninstall DESTDIR="$D" PREFIX=/usr BUILD="$BUILD" >/dev/null 2>&1
left=$(find "$D" \( -type f -o -type l \) | sed "s|^$D||")
ok [ -z "$left" ] || echo "  left behind by uninstall: $left" >&2

# ---- 2: real paths, so systemd can check the units ----
P=$T/prefix
make -s --no-print-directory install PREFIX="$P" SYSCONFDIR="$P/etc" BUILD="$BUILD" >/dev/null 2>&1
ok grep_in "ExecStart=$P/sbin/cand -f -c $P/etc/cand.conf" "$P/lib/systemd/system/cand.service"
ok grep_in "$P/share/cand/cand.conf" "$P/lib/tmpfiles.d/cand.conf"
# Another prefix: Debian's python3 looks in lib/python3.N/dist-packages.
ok grep_in "\"$P/lib/libcand.so.1\"" "$P"/lib/python3.*/dist-packages/can_cand/_paths.py
if command -v systemd-analyze >/dev/null; then
	# Documentation=man:... must resolve: the installed man pages.
	ok env MANPATH="$P/share/man" systemd-analyze verify \
		"$P/lib/systemd/system/cand.socket" "$P/lib/systemd/system/cand-socketcand.socket" \
		"$P/lib/systemd/system/cand.service"
fi
for m in "$P"/share/man/man*/*; do
	ok env MANWIDTH=80 man --warnings -l "$m" >/dev/null 2>"$T/man.err"
	[ -s "$T/man.err" ] && { echo "  $m:" >&2; cat "$T/man.err" >&2; ok false; }
done

echo "install: $passed checks passed, $failed failed"
[ "$failed" -eq 0 ]
