#!/bin/bash
# shellcheck disable=SC2317 # check() calls the helpers by name
# The packages' life on one machine, in the VM of tests/deb/run.sh (systemd
# as PID 1, a writable root that goes with the VM):
#
#   tests/deb/guest.sh DEBDIR NEXTDIR
#
# A system that has never seen cand; apt-get install ./DEBDIR/*.deb; what
# the maintainer scripts did (user, group, cand.socket enabled and
# started, the conffile); tests/integ/systemd.sh --installed on what they
# put in; a program built against libcand-dev; python-can on
# python3-can-cand; [isolate] and a hot-plugged vcan through the packaged
# units and udev rule; the upgrade to NEXTDIR's build over an
# administrator's changed /etc/cand.conf; remove (the interfaces back on
# the host, the namespace gone); purge, and nothing of cand left. The last line is "deb: N passed, N failed".
set -u

DEB=$(cd "${1:?usage: $0 DEBDIR NEXTDIR}" && pwd)
NEXT=$(cd "${2:?usage: $0 DEBDIR NEXTDIR}" && pwd)
REPO=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d /tmp/cand-deb.XXXXXX)
chmod 755 "$T"
trap 'rm -rf "$T"' EXIT
export DEBIAN_FRONTEND=noninteractive
CHECKS_NAME=deb
# shellcheck source=tests/integ/checks.sh
. "$REPO/tests/integ/checks.sh"
finish() { checks_summary; }
# run LOG CMD...: CMD's output into LOG, shown when it fails.
run() {
	local log=$1
	shift
	"$@" </dev/null >"$log" 2>&1 && return 0
	local rc=$?
	sed 's/^/    /' "$log" | tail -n 40
	return "$rc"
}
# The mirrors' lists stay out: the VM has no network, so all that the
# packages need must be installed already, as it is where CI builds them.
# (Parsing the lists also cost 9 s per call here.)
mkdir -p "$T/lists/partial"
APT=(apt-get -y -q -o Dpkg::Use-Pty=0 -o Dir::State::Lists="$T/lists")
pkgs=$(for d in "$DEB"/*.deb; do dpkg-deb -f "$d" Package; done | sort | xargs)
installed() { [ "$(status_of "$1")" = installed ]; }
all_installed() {
	local p
	for p in $pkgs; do installed "$p" || return 1; done
}
unknown_to_dpkg() { ! dpkg-query -W "$1" >/dev/null 2>&1; }
status_of() { dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null; }
is() { [ "$(systemctl "$1" "$2" 2>/dev/null)" = "$3" ]; }
# stopped: no process of user cand, nothing listens on /run/cand.sock.
stopped() {
	! pgrep -u cand >/dev/null && [ ! -e /run/cand.sock ] &&
		! ss -xlH | grep -q '/run/cand\.sock'
}
system_id() { [ -n "$1" ] && [ "$1" -lt 1000 ]; }

[ "$(cat /proc/1/comm)" = systemd ] || { fail "PID 1 is not systemd (run me from tests/deb/run.sh)"; finish; }

# ---- a machine that has never seen cand ----
never=1
for p in $pkgs; do unknown_to_dpkg "$p" || { fail "dpkg knows $p already"; never=0; }; done
for f in /etc/cand.conf /usr/sbin/cand /lib/systemd/system/cand.socket; do
	[ ! -e "$f" ] || { fail "$f is there already"; never=0; }
done
! getent passwd cand >/dev/null || { fail "user cand exists already"; never=0; }
[ $never = 1 ] || finish
# The VM's setup made group can for the other tests; the package must.
groupdel can && pass "no package, file or user of cand here; group can removed too"
# The host is a container image whose policy-rc.d lets no package start a
# service; a machine has none. Without it the postinst really starts units.
rm -f /usr/sbin/policy-rc.d
# Rebuilding the manual page index reads every page over 9p: minutes.
rm -f /var/lib/man-db/auto-update

# ---- install ----
check "apt-get install $DEB/*.deb ($pkgs)" \
	run "$T/install.log" "${APT[@]}" install "$DEB"/*.deb
check "all of them installed" all_installed
check "the sysusers entry made the system user cand" system_id "$(id -u cand 2>/dev/null)"
check "and the system group can" system_id "$(getent group can | cut -d: -f3)"
check "cand.socket is enabled" is is-enabled cand.socket enabled
check "and started" is is-active cand.socket active
check "/run/cand.sock is root:can 0660" test "$(stat -c '%a %U %G' /run/cand.sock)" = "660 root can"
check "cand.service is not enabled: it starts with the first client" \
	is is-enabled cand.service disabled
check "and is not running yet" is is-active cand.service inactive
check "/etc/cand.conf is a conffile" \
	sh -c "dpkg-query -W -f='\${Conffiles}' cand | grep -q '^ /etc/cand.conf '"
check "and the shipped one" cmp -s /etc/cand.conf /usr/share/cand/cand.conf
for f in /usr/sbin/cand /usr/bin/canctl /lib/systemd/system/cand.service \
	/lib/systemd/system/cand.socket /usr/lib/sysusers.d/cand.conf \
	/usr/lib/tmpfiles.d/cand.conf /usr/share/man/man8/cand.8.gz \
	/usr/share/man/man5/cand.conf.5.gz /usr/share/man/man1/canctl.1.gz \
	/usr/include/cand.h "/usr/lib/$(dpkg-architecture -q DEB_HOST_MULTIARCH)/libcand.so.1"; do
	[ -e "$f" ] || fail "$f is missing"
done
pass "the daemon, canctl, units, sysusers, tmpfiles, man pages, header and library in place"
# Everything the packages own, to be gone after the purge.
for p in $pkgs; do dpkg -L "$p"; done | while read -r f; do
	[ -d "$f" ] || echo "$f"
done >"$T/owned"

# ---- the service tests on what the package installed ----
# As README says an administrator lets a user in.
usermod -aG can candtest
bash "$REPO/tests/integ/systemd.sh" --installed 2>&1 | tee "$T/systemd.out"
read -r sp sf <<<"$(tr -d '\r' <"$T/systemd.out" | grep -E '^systemd: [0-9]+ passed, [0-9]+ failed$' |
	tail -n 1 | tr -cs '0-9' ' ')" || true
if [ -n "${sp:-}" ]; then
	passed=$((passed + sp))
	failed=$((failed + sf))
else
	fail "systemd.sh --installed ended without a summary"
fi

# ---- a program built against libcand-dev ----
cat >"$T/client.c" <<'C'
#include <cand.h>
#include <stdio.h>
int main(void)
{
	struct cand_options o;
	struct cand_frame f = {.id = 0x5d1, .len = 2, .data = {0xc0, 0xde}};
	cand_t *h;
	int rc;

	if ((rc = cand_connect(&h, NULL)) < 0)
		return fprintf(stderr, "connect: %s\n", cand_strerror(rc)), 1;
	cand_options_init(&o);
	o.channel = "vcan0";
	o.receive_own_messages = 1;
	if ((rc = cand_open(h, &o)) < 0 || (rc = cand_send(h, &f, 1, 1000)) < 0 ||
	    (rc = cand_recv(h, &f, 5000)) < 0)
		return fprintf(stderr, "%s: %s\n", cand_strerror(rc), cand_last_detail(h)), 1;
	printf("%s %03X#%02X%02X\n", f.ifname, f.id, f.data[0], f.data[1]);
	cand_close(h);
	return 0;
}
C
# shellcheck disable=SC2046 # pkg-config's words
check "cc \$(pkg-config --cflags --libs libcand) builds a client" \
	run "$T/cc.log" cc -o "$T/client" "$T/client.c" $(pkg-config --cflags --libs libcand)
lib=$(ldd "$T/client" | awk '$1 == "libcand.so.1" { print $3 }')
check "it runs on the packaged libcand.so.1 ($lib)" \
	test "$(readlink -f "$lib")" = "$(readlink -f "/usr/lib/$(dpkg-architecture -q DEB_HOST_MULTIARCH)/libcand.so.1")"
got=$(as candtest timeout 30 "$T/client" 2>&1)
check "and, as candtest, gets its frame back from vcan0 ($got)" test "$got" = "vcan0 5D1#C0DE"

# ---- python-can on python3-can-cand, as the README shows it ----
# One interpreter for all of it: each start costs seconds in a loaded VM.
# The package is Architecture: all, so it records no path of one
# architecture: libcand.so.1 comes through the loader.
cat >"$T/client.py" <<'PY'
import can
can.Bus(interface="cand", channel="vcan0").shutdown()
with can.Bus(interface="cand", channel="vcan0", receive_own_messages=True) as bus:
    bus.send(can.Message(arbitration_id=0x5D2, data=b"\xc0\xde", is_extended_id=False))
    m = bus.recv(10)
    print(m.channel, "%03X#%s" % (m.arbitration_id, m.data.hex().upper()))
import can_cand._lib as L, can_cand._paths as P
print(repr(P.LIBRARY), L._path)
PY
# (python-can 4.1 itself warns about importlib.metadata on Python 3.11.)
got=$(as candtest env PYTHONWARNINGS=ignore timeout 60 /usr/bin/python3 "$T/client.py" 2>&1)
check "python-can, as candtest, on interface cand from python3-can-cand ($got)" \
	test "$(echo "$got" | head -n 1)" = "vcan0 5D2#C0DE"
check "it loads libcand.so.1 through the loader" \
	test "$(echo "$got" | sed -n 2p)" = "'' libcand.so.1"
check "python3-can-cand depends on libcand1 and python3-can" \
	sh -c "dpkg-query -W -f '\${Depends}' python3-can-cand | grep -q 'libcand1.*python3-can'"

# ---- [isolate] on the packaged units and udev rule ----
# on-stop = stay: only cand-netns.service's stop (the prerm on remove)
# hands them back, which is what removing the package must do.
on_host() { ip link show dev "$1" >/dev/null 2>&1; }
in_ns() { ip -n cand link show dev "$1" >/dev/null 2>&1; }
isolated() { in_ns "$1" && ! on_host "$1"; }
both_isolated() { isolated vcan1 && isolated vcan8; }
cat >>/etc/cand.conf <<'CONF'

[isolate]
interfaces = vcan1 vcan8
on-stop = stay
CONF
check "systemctl restart cand-netns makes cand's namespace" systemctl restart cand-netns.service
check "a client starts cand again" as candtest timeout 60 canctl list >/dev/null
check "vcan1 is in cand's namespace, not on the host" isolated vcan1
ip link add vcan8 type vcan
check "a vcan8 created on the host is moved in (packaged udev rule and cand-netns-add@)" \
	wait_for 60 isolated vcan8
lists_vcan8() { as candtest timeout 60 canctl list | grep -q '^vcan8 '; }
check "canctl sees it through cand" lists_vcan8

# ---- upgrade over a changed /etc/cand.conf ----
# The administrator takes send away from group can.
sed -i 's/^rights = read send periodic monitor$/rights = read/' /etc/cand.conf
cp /etc/cand.conf "$T/admin.conf"
next_version=$(dpkg-deb -f "$(ls "$NEXT"/cand_*.deb)" Version)
# Unattended and not told what to do, dpkg stops at the question rather
# than overwrite (or keep) the file.
run "$T/upgrade1.log" "${APT[@]}" install "$NEXT"/*.deb >/dev/null
rc=$?
check "an upgrade that nobody can answer stops at /etc/cand.conf (apt-get exit $rc)" \
	sh -c "[ $rc != 0 ] && grep -q 'end of file on stdin at conffile prompt' $T/upgrade1.log"
check "and leaves the administrator's file alone" cmp -s "$T/admin.conf" /etc/cand.conf
check "dpkg --force-confold --configure -a: keeps it, and says so" \
	sh -c "dpkg --force-confold --configure -a </dev/null >$T/upgrade2.log 2>&1 &&
		grep -q 'Using current old file as you requested' $T/upgrade2.log"
check "cand $next_version installed" \
	test "$(dpkg-query -W -f='${Version} ${db:Status-Status}' cand)" = "$next_version installed"
check "/etc/cand.conf is the administrator's" cmp -s "$T/admin.conf" /etc/cand.conf
check "the new default is beside it, as /etc/cand.conf.dpkg-dist" \
	cmp -s /usr/share/cand/cand.conf /etc/cand.conf.dpkg-dist
check "cand.socket is still enabled" is is-enabled cand.socket enabled
check "and active" is is-active cand.socket active
check "a client gets through" as candtest timeout 60 canctl list >/dev/null
pid=$(systemctl show -P MainPID cand.service)
check "the daemon is the new /usr/sbin/cand" \
	test "$(readlink "/proc/$pid/exe" 2>&1)" = /usr/sbin/cand
# On vcan1: under [isolate] cand sees only what is in its namespace.
send_refused() {
	! as candtest timeout 30 canctl send vcan1 123#01 2>"$T/err" && grep -q "'send' right" "$T/err"
}
check "and applies the administrator's rules (send refused)" send_refused
check "vcan1 and vcan8 stayed in cand's namespace through the upgrade" \
	both_isolated

# ---- remove ----
check "apt-get remove cand" run "$T/remove.log" "${APT[@]}" remove cand
check "stopped: no process of user cand, no /run/cand.sock, nothing listens" stopped
check "cand.socket is not active" test "$(systemctl is-active cand.socket)" != active
check "the program is gone" test ! -e /usr/sbin/cand
check "the configuration stays (dpkg: config-files)" test "$(status_of cand)" = config-files
check "the administrator's, unchanged" cmp -s "$T/admin.conf" /etc/cand.conf
check "vcan1 and vcan8 are back on the host" sh -c "ip link show vcan1 && ip link show vcan8" >/dev/null
left=$(ls -d /run/netns/cand /run/cand 2>/dev/null)
check "cand-netns.service stopped: no namespace, no state${left:+ (left: $left)}" test -z "$left"
check "it is not active" test "$(systemctl is-active cand-netns.service)" != active

# ---- purge ----
rm -rf /run/systemd/system/cand.service.d # systemd.sh's short watchdog
systemctl daemon-reload
# What dpkg still knows (cand-dbgsym went with cand: it has no conffiles).
known=$(for p in $pkgs; do unknown_to_dpkg "$p" || echo "$p"; done | xargs)
# shellcheck disable=SC2086 # package names
check "apt-get purge $known" run "$T/purge.log" "${APT[@]}" purge $known
known=$(for p in $pkgs; do unknown_to_dpkg "$p" || echo "$p"; done | xargs)
check "dpkg knows none of them${known:+ (still: $known)}" test -z "$known"
left=$(while read -r f; do [ -e "$f" ] || [ -L "$f" ] && echo "$f"; done <"$T/owned")
check "none of their files is left${left:+: $left}" test -z "$left"
left=$(ls -d /etc/cand.conf* 2>/dev/null)
check "/etc/cand.conf went with the purge, .dpkg-dist too${left:+ (left: $left)}" test -z "$left"
left=$(find /etc/systemd /var/lib/systemd -name '*cand*' 2>/dev/null)
check "no enablement left (symlinks, deb-systemd-helper state)${left:+: $left}" test -z "$left"
left=$(systemctl list-unit-files --no-legend cand.service cand.socket)
check "systemd knows no cand unit${left:+: $left}" test -z "$left"
check "no process of user cand, no /run/cand.sock, nothing listens" stopped
# (cand-vm*: the test VM's own units, which run this script.)
left=$(systemctl list-units --all --no-legend 'cand*' | grep -v -E 'not-found.*inactive|(^|[[:space:]])cand-vm')
check "no cand unit loaded or failed${left:+: $left}" test -z "$left"
# (dpkg's and apt's own trees are root's alone, and slow to walk over 9p.)
left=$(find /etc /run /tmp /var -xdev \( -path /var/lib/dpkg -o -path /var/cache/apt \) -prune \
	-o -user cand -print 2>/dev/null | head -n 5)
check "no file of user cand anywhere writable${left:+: $left}" test -z "$left"
# Debian never deletes a system user or group: files the admin gave them
# (or their uid and gid on backups) would go to the next one to get them.
check "user cand and group can stay, as Debian leaves system users" \
	sh -c 'getent passwd cand >/dev/null && getent group can >/dev/null'
finish
