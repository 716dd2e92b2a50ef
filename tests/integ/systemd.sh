#!/bin/bash
# The real units under a real systemd (PID 1 of the VM: vm.sh --systemd):
#
#   tests/vm/vm.sh --systemd -- tests/integ/systemd.sh BUILDDIR
#   tests/integ/systemd.sh --installed   (tests/deb: what the packages put in)
#
# make install (PREFIX=/run/cand-prefix: the host's / is read-only here),
# the units into /run/systemd/system, the sysusers and tmpfiles entries
# applied (or, --installed, the package's /usr and units as they are);
# then socket activation, READY=1 and STATUS=, the sandbox (user,
# capabilities, seccomp, and cand still doing its job under all of it),
# reload (good and broken files), the watchdog restarting a stopped daemon,
# the socketcand front-end through cand-socketcand.socket, and a clean stop
# that tells clients; then (not --installed) [isolate]: systemd_isolate.sh.
# The last line is "systemd: N passed, N failed".
set -u

REPO=$(cd "$(dirname "$0")/../.." && pwd)
if [ "${1:?usage: $0 BUILDDIR | --installed}" = --installed ]; then
	BUILD=
	P=/usr
else
	BUILD=$(cd "$1" && pwd)
	P=/run/cand-prefix
fi
CANCTL=$P/bin/canctl
SOCK=/run/cand.sock
T=$(mktemp -d /tmp/cand-systemd.XXXXXX)
chmod 755 "$T"
bg_pids=()
trap 'for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT

CHECKS_NAME=systemd
# shellcheck source=tests/integ/checks.sh
. "$REPO/tests/integ/checks.sh"
finish() {
	if [ "$failed" -gt 0 ]; then
		echo "---- journalctl -u cand.service -u cand.socket ----"
		journalctl --no-pager -o short-monotonic -u cand.service -u cand.socket | tail -n 80
		echo "---- systemctl status cand ----"
		systemctl --no-pager status cand.service cand.socket 2>&1 | tail -n 30
	fi
	checks_summary
}
prop() { systemctl show -P "$2" "$1"; }
list_as() { as "$1" timeout 60 "$CANCTL" list >/dev/null; }
# in_journal REGEX: cand.service logged a line matching it.
in_journal() { journalctl --no-pager -u cand.service -g "$1" -q >/dev/null; }
is_active() { [ "$(systemctl is-active "$1")" = active ]; }
receivers() {
	cat /proc/net/can/rcvlist_{all,fil,inv,sff,eff,err} | awk -v d="$1" '$1 == d' | wc -l
}
# more_receivers IFACE N: the kernel lists more than N receivers on IFACE.
more_receivers() { [ "$(receivers "$1")" -gt "$2" ]; }
start_candump() { # OUTFILE IFACE
	local before
	before=$(receivers "$2")
	candump -L "$2" >"$1" 2>&1 &
	bg_pids+=($!)
	wait_for 20 more_receivers "$2" "$before"
}
# has_clients: STATUS= counts at least one client (it lags by design).
has_clients() { prop cand.service StatusText | grep -Eq '^[1-9][0-9]* clients?,'; }

[ "$(cat /proc/1/comm)" = systemd ] || { fail "PID 1 is $(cat /proc/1/comm), not systemd (run me with vm.sh --systemd)"; finish; }
pass "systemd is PID 1 ($(systemctl --version | head -n 1))"

# ---- install ----
if [ -n "$BUILD" ]; then
	# BINS= : install what make all built, never rebuild in here.
	if make -s --no-print-directory -C "$REPO" install BINS= BUILD="$BUILD" PREFIX="$P" \
		SYSCONFDIR=/etc >"$T/install.log" 2>&1; then
		pass "make install PREFIX=$P"
	else
		fail "make install: $(cat "$T/install.log")"
		finish
	fi
	check "systemd-sysusers makes user cand" \
		sh -c "systemd-sysusers $P/lib/sysusers.d/cand.conf && id cand >/dev/null"
	rm -f /etc/cand.conf
	check "systemd-tmpfiles puts the packaged /etc/cand.conf in place" \
		sh -c "systemd-tmpfiles --create $P/lib/tmpfiles.d/cand.conf && cmp -s $REPO/etc/cand.conf /etc/cand.conf"
	cp "$P/lib/systemd/system/cand.service" "$P/lib/systemd/system/cand.socket" \
		"$P/lib/systemd/system/cand-netns.service" /run/systemd/system/
	mkdir -p /run/udev/rules.d
	cp "$P/lib/udev/rules.d/60-cand.rules" /run/udev/rules.d/
	udevadm control --reload
fi
# A short watchdog, so that a stopped daemon is caught within seconds.
mkdir -p /run/systemd/system/cand.service.d
printf '[Service]\nWatchdogSec=4s\nRestartSec=1s\n' >/run/systemd/system/cand.service.d/test.conf
systemctl daemon-reload
# (systemd-analyze verify runs on the host: tests/unit/install.sh, units.sh.)

# ---- socket activation ----
check "cand.socket starts" systemctl start cand.socket
check "the socket is root:can 0660" test "$(stat -c '%a %U %G' $SOCK)" = "660 root can"
check "cand.service waits for a client" test "$(systemctl is-active cand.service)" = inactive
# candtest is in group can, which the installed config lets read and send.
check "the first client (candtest) activates cand.service" list_as candtest
check "cand.service is active: it sent READY=1 (Type=notify)" is_active cand.service
pid=$(prop cand.service MainPID)
check "the daemon got the socket from systemd" \
	in_journal "using the socket passed by systemd"
check "READY=1 came once the interfaces were counted" \
	in_journal "ready: [0-9]+ CAN interfaces"
check "log priorities reach the journal (<6> is info)" \
	sh -c "journalctl --no-pager -u cand.service -o export | grep -q '^PRIORITY=6'"
status=$(prop cand.service StatusText)
check "STATUS= counts clients and interfaces ('$status')" \
	sh -c "echo '$status' | grep -Eq '^[0-9]+ clients?, [1-9][0-9]* CAN interfaces?$'"

# ---- the sandbox, and cand working inside it ----
st=/proc/$pid/status
check "it runs as user cand" test "$(awk '/^Uid:/ { print $2 }' "$st")" = "$(id -u cand)"
check "CAP_NET_ADMIN is its only capability" \
	sh -c "grep -q '^CapEff:.*0000000000001000$' $st && grep -q '^CapBnd:.*0000000000001000$' $st"
check "NoNewPrivileges and a seccomp filter" \
	sh -c "grep -q '^NoNewPrivs:.*1' $st && grep -q '^Seccomp:.*2' $st"
score=$(systemd-analyze security cand.service 2>/dev/null |
	sed -n 's/.*Overall exposure level for cand.service: \([0-9.]*\).*/\1/p')
check "systemd-analyze security: exposure ${score:-?} is under 2.0" \
	awk -v s="${score:-99}" 'BEGIN { exit !(s < 2.0) }'
start_candump "$T/dump" vcan0 || fail "candump did not start"
before=$(receivers can1)
as candtest timeout 30 "$CANCTL" dump -n 1 -T 20000 can1 >"$T/can1" 2>&1 &
dumper=$!
wait_for 20 more_receivers can1 "$before"
wait_for 20 has_clients
status=$(prop cand.service StatusText)
check "sends go out under the sandbox" as candtest timeout 30 "$CANCTL" send vcan0 5A5#C0FFEE
cansend can0 321#BEEF
wait "$dumper"
check "frames come in from real (emulated SJA1000) hardware ($(cat "$T/can1"))" \
	grep -q '321' "$T/can1"
wait_for 10 sh -c "grep -q '5A5#C0FFEE' $T/dump"
check "candump saw the frame sent through the service" grep -q 'vcan0 5A5#C0FFEE' "$T/dump"
check "STATUS= saw the dumping client ('$status')" \
	sh -c "echo '$status' | grep -Eq '^[1-9][0-9]* clients?,'"

# ---- reload ----
cat >/etc/cand.conf <<'CONF'
[rule can-group]
interfaces = *
groups = can
rights = read
CONF
check "systemctl reload with a good file" systemctl reload cand.service
denied_send() {
	! as candtest timeout 30 "$CANCTL" send vcan0 111#01 2>"$T/err" &&
		grep -q "'send' right" "$T/err"
}
check "the reload took away send" denied_send
printf '[rule broken]\ninterfaces = *\n' >/etc/cand.conf
check "systemctl reload refuses a broken file" sh -c "! systemctl reload cand.service 2>/dev/null"
check "the daemon goes on after the refused reload" list_as candtest
cp "$REPO/etc/cand.conf" /etc/cand.conf
check "systemctl reload back to the shipped file" systemctl reload cand.service
check "send is back" as candtest timeout 30 "$CANCTL" send vcan0 112#02

# ---- the watchdog ----
pid=$(prop cand.service MainPID)
restarts=$(prop cand.service NRestarts)
kill -STOP "$pid"
restarted() {
	local now
	now=$(prop cand.service MainPID)
	[ "$now" != 0 ] && [ "$now" != "$pid" ] && is_active cand.service
}
check "a stopped daemon is restarted by the watchdog (WatchdogSec=4s)" wait_for 90 restarted
check "NRestarts went up" test "$(prop cand.service NRestarts)" -gt "$restarts"
check "the journal says it was the watchdog" in_journal "[Ww]atchdog timeout"
check "clients get through the same socket again" list_as candtest

# ---- the socketcand front-end through its own socket unit ----
# sc_talk HOST CMD...: connects, sends each CMD after the previous
# answer (a CMD of "-" sends nothing and waits once more), prints the
# answers, one element per line.
sc_talk() {
	/usr/bin/python3 - "$@" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], 29536), timeout=20)
for cmd in ["-"] + sys.argv[2:]:
    if cmd != "-":
        s.sendall(cmd.encode())
    data = s.recv(4096)
    print(data.decode(errors="replace"))
    if not data:
        break
PY
}
cat "$REPO/etc/cand.conf" - >/etc/cand.conf <<'CONF'
[rule socketcand-local]
interfaces = vcan0
peers = 127.0.0.1
rights = read send
[socketcand]
interfaces = vcan0
CONF
cp "$P/lib/systemd/system/cand-socketcand.socket" /run/systemd/system/
systemctl daemon-reload
check "cand-socketcand.socket is not started by cand.socket's client" \
	test "$(systemctl is-active cand-socketcand.socket)" = inactive
# systemd refuses to start a socket whose service runs.
check "cand.service stops for it" systemctl stop cand.service
check "cand-socketcand.socket starts" systemctl start cand-socketcand.socket
check "a client of cand.socket starts cand.service with both sockets" list_as candtest
check "the daemon took systemd's TCP socket" \
	in_journal "socketcand: listening on \\[::\\]:29536"
start_candump "$T/scdump" vcan0 || fail "candump did not start"
sc_talk 127.0.0.1 "< open vcan0 >" "< rawmode >" "< send 5C5 1 c5 >< echo >" >"$T/sc" 2>&1
check "an IPv4 peer on the dual-stack socket is its IPv4 rule's ($(tr '\n' ' ' <"$T/sc"))" \
	sh -c "head -n 3 $T/sc | tr '\n' ' ' | grep -q '^< hi > < ok > < ok > '"
wait_for 10 sh -c "grep -q '5C5#C5' $T/scdump"
check "its frame went out under the sandbox" grep -q 'vcan0 5C5#C5' "$T/scdump"
sc_talk ::1 - >"$T/sc6" 2>&1
check "a peer no rule names is refused ($(tr '\n' ' ' <"$T/sc6"))" \
	grep -q '^< error peer ::1 is not admitted' "$T/sc6"
check "the journal names the refused peer" in_journal "refused peer ::1 port"
systemctl stop cand-socketcand.socket
cp "$REPO/etc/cand.conf" /etc/cand.conf

# ---- stop ----
before=$(receivers vcan0)
# Not reconnecting: it would start the service again through the socket
# (systemd_restart.sh has the clients that do).
as candtest env CAND_RECONNECT_MS=0 timeout 60 "$CANCTL" dump vcan0 >"$T/last" 2>&1 &
last=$!
wait_for 20 more_receivers vcan0 "$before"
check "systemctl stop cand.service" systemctl stop cand.service
wait "$last"
rc=$?
check "a connected client was told (canctl exit $rc: $(tr '\n' ' ' <"$T/last"))" \
	sh -c "[ $rc = 1 ] && grep -q 'shutting down' $T/last"
check "the stop was clean (Result=$(prop cand.service Result))" \
	test "$(prop cand.service Result)" = success
check "the socket stays and activates again" list_as candtest
if [ -n "$BUILD" ]; then
	check "systemctl stop cand.service, for [isolate]" systemctl stop cand.service
	# shellcheck source=tests/integ/systemd_isolate.sh
	. "$REPO/tests/integ/systemd_isolate.sh"
fi
finish
