#!/bin/bash
# Integration tests against the real kernel CAN stack:
#
#   tests/integ/run-all.sh BUILDDIR [CONFIG]
#
# Run as root from the repository root, inside the VM (tests/vm/run-tests.sh)
# or on a host whose kernel has CAN. Starts BUILDDIR/cand with CONFIG
# (default tests/integ/conf/open.conf, everyone may do anything, and
# conf/socketcand.conf, the TCP front-end's peers and listener) as the
# user "cand" with only CAP_NET_ADMIN, as cand.service does
# (start-daemon.sh; prefixed with $CAND_DAEMON_WRAPPER, e.g. valgrind),
# runs the Check program BUILDDIR/test_integ, the canctl tests in
# tests/integ/cli.sh, python-can's socketcand interface against the TCP
# front-end (socketcand.py) and the service tests in tests/integ/service.sh, stops
# it with SIGTERM and checks that it exits 0. The suites that need their own
# configuration (policy, reload, limits) start daemons of their own. The
# last line is "N passed, N failed"; the exit status is non-zero if
# anything failed.
#
# The tests get CAND_SOCKET, CAND_LOG (the daemon's stderr), CAND_PID and
# BUILDDIR in the environment. CK_RUN_SUITE / CK_RUN_CASE narrow the Check
# run; CAND_INTEG_SKIP_CLI=1 skips the shell tests, CLI_CASE (a glob)
# narrows them, CAND_INTEG_SKIP_PY=1 skips socketcand.py.
set -u

BUILD=${1:?usage: $0 BUILDDIR}
BUILD=$(cd "$BUILD" && pwd) || exit 2
HERE=$(cd "$(dirname "$0")" && pwd)
# By default open.conf and the socketcand front-end's peers and listener.
if [ $# -ge 2 ]; then
	CONF=$2
else
	CONF=/tmp/cand-integ.conf
	cat "$HERE/conf/open.conf" "$HERE/conf/socketcand.conf" >"$CONF"
	chmod 644 "$CONF"
fi
# In a directory of its own: the daemon is not root and cannot write /run.
SOCK=${CAND_TEST_SOCKET:-/run/cand-test/cand.sock}
LOG=${CAND_TEST_LOG:-/tmp/cand-integ.log}
CHECK_OUT=/tmp/cand-integ-check.out
CLI_OUT=/tmp/cand-integ-cli.out
WRAPPER=${CAND_DAEMON_WRAPPER:-}

passed=0
failed=0
# Everything takes longer under valgrind.
slow=1
[ -n "$WRAPPER" ] && slow=4

pass() {
	passed=$((passed + 1))
	echo "PASS: $*"
}
fail() {
	failed=$((failed + 1))
	echo "FAIL: $*"
}

finish() {
	# Keep the logs where the host sees them (BUILDDIR is shared with the VM).
	if mkdir -p "$BUILD/integ-logs" 2>/dev/null; then
		cp -f "$LOG" "$CHECK_OUT" "$CLI_OUT" /tmp/cand-integ-service.out /tmp/cand-integ-python.out \
			/tmp/cand-integ-socketcand.out /tmp/cand-integ-tools.out \
			/tmp/cand-t/*.log "$BUILD/integ-logs/" 2>/dev/null
	fi
	if [ "$failed" -gt 0 ] && [ -f "$LOG" ]; then
		echo "---- daemon log ($LOG), last 300 lines ----"
		tail -n 300 "$LOG"
		echo "---- end of daemon log (all of it: $BUILD/integ-logs/) ----"
	fi
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

# Running and not a zombie (kill -0 succeeds on an unreaped child).
alive() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	case "$st" in
	Z* | X* | "") return 1 ;;
	esac
	return 0
}

# The VM sets these up; do it here too when run on a CAN-capable host.
ensure_vcan() {
	local dev=$1 mtu=$2
	if ! ip link show "$dev" >/dev/null 2>&1; then
		modprobe vcan 2>/dev/null
		ip link add dev "$dev" type vcan || return 1
	fi
	ip link set "$dev" mtu "$mtu" 2>/dev/null
	ip link set "$dev" up
}

# can0/can1 (VM only) as the VM sets them up: 500 kbit/s, restart-ms 100.
restore_controllers() {
	local d
	for d in can0 can1; do
		[ -e "/sys/class/net/$d" ] || continue
		ip link set "$d" down &&
			ip link set "$d" type can bitrate 500000 sample-point 0.875 \
				restart-ms 100 listen-only off &&
			ip link set "$d" up
	done 2>/dev/null
}

if [ "$(id -u)" != 0 ]; then
	echo "run-all.sh: the integration tests need root" >&2
	fail "running as root"
	finish
fi
for bin in cand test_integ; do
	if [ ! -x "$BUILD/$bin" ]; then
		fail "$BUILD/$bin is missing (make all)"
		finish
	fi
done
ensure_vcan vcan0 72 || fail "vcan0 could not be set up"
ensure_vcan vcan1 16 || fail "vcan1 could not be set up"
"$HERE/users.sh" || fail "test users and groups could not be added"

# ---- start the daemon ----
rm -f "$SOCK" "$CHECK_OUT" "$CLI_OUT"
: >"$LOG"
"$HERE/start-daemon.sh" "$BUILD" "$SOCK" "$CONF" 2>"$LOG" &
pid=$!

ready=0
for _ in $(seq $((200 * slow))); do
	if ! alive "$pid"; then
		break
	fi
	if [ -S "$SOCK" ]; then
		if [ ! -x "$BUILD/canctl" ] ||
			timeout 5 "$BUILD/canctl" -s "$SOCK" list >/dev/null 2>&1; then
			ready=1
			break
		fi
	fi
	sleep 0.05
done
if [ "$ready" != 1 ]; then
	fail "the daemon did not come up on $SOCK"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	finish
fi
pass "the daemon answers on $SOCK"
# Non-root test clients connect too (the daemon may already make it 0666).
chmod 0666 "$SOCK"

export CAND_SOCKET="$SOCK" CAND_LOG="$LOG" CAND_PID="$pid" BUILDDIR="$BUILD"

# ---- the Check program ----
echo "==== test_integ ===="
CK_FORK=yes CK_VERBOSITY=${CK_VERBOSITY:-verbose} CK_TIMEOUT_MULTIPLIER=$slow \
	timeout -k 10 $((900 * slow)) "$BUILD/test_integ" 2>&1 | tee "$CHECK_OUT"
rc=${PIPESTATUS[0]}
summary=$(grep -Eo 'Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$CHECK_OUT" | tail -n 1)
if [ -n "$summary" ]; then
	read -r checks fails errors <<<"$(echo "$summary" | tr -cs '0-9' ' ')"
	passed=$((passed + checks - fails - errors))
	failed=$((failed + fails + errors))
	if [ "$rc" != 0 ] && [ $((fails + errors)) -eq 0 ]; then
		fail "test_integ exited $rc with no failed check"
	fi
else
	fail "test_integ exited $rc without a Check summary (timed out or crashed?)"
fi

# Whatever a failed test left behind.
ip link set vcan0 up 2>/dev/null
ip link set vcan1 up 2>/dev/null
restore_controllers

# ---- canctl ----
if [ "${CAND_INTEG_SKIP_CLI:-0}" != 1 ]; then
	echo "==== cli.sh ===="
	timeout -k 10 $((300 * slow)) bash "$HERE/cli.sh" "$BUILD" 2>&1 | tee "$CLI_OUT"
	rc=${PIPESTATUS[0]}
	summary=$(grep -E '^cli: [0-9]+ passed, [0-9]+ failed$' "$CLI_OUT" | tail -n 1)
	if [ -n "$summary" ]; then
		read -r cp cf <<<"$(echo "$summary" | tr -cs '0-9' ' ')"
		passed=$((passed + cp))
		failed=$((failed + cf))
		if [ "$rc" != 0 ] && [ "$cf" -eq 0 ]; then
			fail "cli.sh exited $rc with no failed test"
		fi
	else
		fail "cli.sh exited $rc without a summary (timed out?)"
	fi
fi

# ---- canctl's can-utils tools, each beside its can-utils counterpart ----
if [ "${CAND_INTEG_SKIP_CLI:-0}" != 1 ]; then
	echo "==== tools.sh ===="
	TOOLS_OUT=/tmp/cand-integ-tools.out
	timeout -k 10 $((600 * slow)) bash "$HERE/tools.sh" "$BUILD" 2>&1 | tee "$TOOLS_OUT"
	rc=${PIPESTATUS[0]}
	summary=$(grep -E '^tools: [0-9]+ passed, [0-9]+ failed$' "$TOOLS_OUT" | tail -n 1)
	if [ -n "$summary" ]; then
		read -r tp tf <<<"$(echo "$summary" | tr -cs '0-9' ' ')"
		passed=$((passed + tp))
		failed=$((failed + tf))
		if [ "$rc" != 0 ] && [ "$tf" -eq 0 ]; then
			fail "tools.sh exited $rc with no failed test"
		fi
	else
		fail "tools.sh exited $rc without a summary (timed out?)"
	fi
	restore_controllers
fi

# ---- python-can's socketcand interface against the TCP front-end ----
if [ "${CAND_INTEG_SKIP_PY:-0}" != 1 ]; then
	echo "==== socketcand.py ===="
	PY_OUT=/tmp/cand-integ-socketcand.out
	timeout -k 10 $((300 * slow)) /usr/bin/python3 "$HERE/socketcand.py" 2>&1 | tee "$PY_OUT"
	rc=${PIPESTATUS[0]}
	summary=$(grep -E '^socketcand: [0-9]+ passed, [0-9]+ failed$' "$PY_OUT" | tail -n 1)
	if [ -n "$summary" ]; then
		read -r pp pf <<<"$(echo "$summary" | tr -cs '0-9' ' ')"
		passed=$((passed + pp))
		failed=$((failed + pf))
		if [ "$rc" != 0 ] && [ "$pf" -eq 0 ]; then
			fail "socketcand.py exited $rc with no failed test"
		fi
	else
		fail "socketcand.py exited $rc without a summary (timed out?)"
	fi
fi

# ---- the daemon as a service: configs, sockets, users, signals ----
if [ "${CAND_INTEG_SKIP_CLI:-0}" != 1 ]; then
	echo "==== service.sh ===="
	SVC_OUT=/tmp/cand-integ-service.out
	timeout -k 10 $((300 * slow)) bash "$HERE/service.sh" "$BUILD" 2>&1 | tee "$SVC_OUT"
	rc=${PIPESTATUS[0]}
	summary=$(grep -E '^service: [0-9]+ passed, [0-9]+ failed$' "$SVC_OUT" | tail -n 1)
	if [ -n "$summary" ]; then
		read -r sp sf <<<"$(echo "$summary" | tr -cs '0-9' ' ')"
		passed=$((passed + sp))
		failed=$((failed + sf))
		if [ "$rc" != 0 ] && [ "$sf" -eq 0 ]; then
			fail "service.sh exited $rc with no failed test"
		fi
	else
		fail "service.sh exited $rc without a summary (timed out?)"
	fi
fi

# ---- python-can through cand (tests/python/) ----
if [ "${CAND_INTEG_SKIP_PY:-0}" != 1 ]; then
	PY_OUT=/tmp/cand-integ-python.out
	timeout -k 10 $((600 * slow)) "$HERE/../python/run.sh" "$BUILD" 2>&1 | tee "$PY_OUT"
	summary=$(grep -E '^python: [0-9]+ passed, [0-9]+ failed$' "$PY_OUT" | tail -n 1)
	if [ -n "$summary" ]; then
		read -r pp pf <<<"$(echo "$summary" | tr -cs '0-9' ' ')"
		passed=$((passed + pp))
		failed=$((failed + pf))
	else
		fail "tests/python/run.sh ended without a summary (timed out?)"
	fi
fi

# ---- stop the daemon ----
echo "==== shutdown ===="
# The number of CAN receivers the kernel has on an interface.
receivers() {
	cat /proc/net/can/rcvlist_{all,fil,inv,sff,eff,err} 2>/dev/null |
		awk -v d="$1" '$1 == d' | wc -l
}

if alive "$pid"; then
	pass "the daemon survived the tests"
	# Shut down with a client connected: it must be let go, not hang.
	client=""
	if [ -x "$BUILD/canctl" ]; then
		before=$(receivers vcan0)
		# It tries to reconnect for a second, then goes (restart.c, with).
		CAND_RECONNECT_MS=1000 timeout -k 5 $((60 * slow)) "$BUILD/canctl" dump \
			-T $((50000 * slow)) vcan0 >/tmp/cand-integ-lastclient.out 2>&1 &
		client=$!
		for _ in $(seq $((100 * slow))); do
			[ "$(receivers vcan0)" -gt "$before" ] && break
			sleep 0.05
		done
	fi
	kill -TERM "$pid"
	# A watchdog, so that a daemon that ignores SIGTERM cannot hang us.
	killed=/tmp/cand-integ-killed
	rm -f "$killed"
	(
		trap 'kill "$sp" 2>/dev/null; exit 0' TERM
		sleep $((30 * slow)) &
		sp=$!
		wait "$sp"
		touch "$killed"
		kill -KILL "$pid" 2>/dev/null
	) &
	watchdog=$!
	wait "$pid"
	drc=$?
	kill "$watchdog" 2>/dev/null
	wait "$watchdog" 2>/dev/null
	if [ -e "$killed" ]; then
		fail "the daemon did not exit within $((30 * slow)) s of SIGTERM"
	else
		if [ "$drc" = 0 ]; then
			pass "the daemon exited 0 on SIGTERM"
		else
			fail "the daemon exited $drc on SIGTERM${WRAPPER:+ (under $WRAPPER)}"
		fi
		if [ -e "$SOCK" ]; then
			fail "the daemon left $SOCK behind"
		else
			pass "the daemon removed $SOCK"
		fi
	fi
	if [ -n "$client" ]; then
		wait "$client"
		crc=$?
		if [ "$crc" = 1 ]; then
			pass "a client connected at shutdown was let go (canctl dump exited 1)"
		else
			fail "a client connected at shutdown: canctl dump exited $crc, want 1 ($(cat /tmp/cand-integ-lastclient.out))"
		fi
	fi
else
	wait "$pid"
	fail "the daemon died during the tests (exit status $?)"
fi

# UBSan goes on after a report; ASan's and valgrind's show in the exit status.
# The daemons some tests start of their own (util_daemon_start) log to
# /tmp/cand-t; their reports count as much.
SAN='runtime error:|AddressSanitizer|LeakSanitizer'
if grep -Eq "$SAN" "$LOG" /tmp/cand-t/*.log 2>/dev/null; then
	fail "sanitizer reports in the daemon logs"
	grep -E -A5 "$SAN" "$LOG" /tmp/cand-t/*.log 2>/dev/null | head -n 40
else
	pass "no sanitizer reports in the daemon logs"
fi

finish
