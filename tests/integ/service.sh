#!/bin/bash
# cand as a service, from the outside, with can-utils as the observers:
#
#   tests/integ/service.sh BUILDDIR
#
# cand -n's verdicts, the control socket's stale/live handling, the daemon's
# identity (user cand, only CAP_NET_ADMIN), and the access rules as seen by
# canctl run by different users (setpriv) with candump watching the bus.
# Needs root; run-all.sh runs it (CAND_PID: its daemon). Every test is a
# function t_*; the last line is "service: N passed, N failed".
set -u

BUILD=$(cd "${1:?usage: $0 BUILDDIR}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
CAND=$BUILD/cand
CANCTL=$BUILD/canctl
T=$(mktemp -d /tmp/cand-svc.XXXXXX)
chmod 755 "$T"
SOCKDIR=/run/cand-svc
passed=0
failed=0

SUITE=service
# shellcheck source=tests/integ/cli_lib.sh
. "$HERE/cli_lib.sh"
trap 'kill_bg; rm -rf "$T"' EXIT

# as USER CMD...: CMD as that user, with that user's groups.
as() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$u" --init-groups -- "$@"
}

# start_daemon NAME CONFFILE [PREFIX...]: a daemon on $SOCKDIR/NAME.sock as
# user cand, started through PREFIX (prlimit ...) if given; sets $DPID, its
# log is $T/NAME.log.
start_daemon() {
	local name=$1 conf=$2 sock=$SOCKDIR/$1.sock _
	shift 2
	"$@" "$HERE/start-daemon.sh" "$BUILD" "$sock" "$conf" 2>"$T/$name.log" &
	DPID=$!
	bg_pids+=("$DPID")
	for _ in $(seq 400); do
		timeout 5 "$CANCTL" -s "$sock" list >/dev/null 2>&1 && return 0
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.05
	done
	err "daemon $name did not come up: $(cat "$T/$name.log")"
}

# ---- cand -n ----

# check_conf TEXT WANT_STATUS WANT_OUTPUT_REGEX
check_conf() {
	local f=$T/check.conf out rc
	printf '%b' "$1" >"$f"
	out=$("$CAND" -n -c "$f" 2>&1)
	rc=$?
	[ "$rc" = "$2" ] || err "cand -n on: $1 -> status $rc ($out), want $2" || return 1
	[[ $out =~ $3 ]] || err "cand -n on: $1 -> '$out', want /$3/"
}

t_check_verdicts() {
	local repo rc
	repo=$(cd "$HERE/../.." && pwd)
	"$CAND" -n -c "$repo/etc/cand.conf" >"$T/out" 2>&1 ||
		err "the shipped etc/cand.conf: $(cat "$T/out")" || return 1
	grep -q "OK, 1 rule" "$T/out" || err "cand -n says: $(cat "$T/out")" || return 1
	check_conf '[rule a]\ninterfaces = vcan0\ngroups = can\nrights = read send\nsend_ids = 700-7FF\n' 0 'check.conf: OK, 1 rule' &&
		check_conf '' 0 'OK, 0 rules' &&
		check_conf '[rule a]\ninterfaces = vcan0\ngroups = nosuchgroup\nrights = read\n' 0 \
			"^$T/check.conf:3: groups: no group 'nosuchgroup' on this system \(yet\).*\(warning\).*OK, 1 rule, 1 warning" &&
		check_conf '# x\n\n[limits]\nmax_filters = 600\n' 1 "^$T/check.conf:4: max_filters: 600 is outside 0..512" &&
		check_conf '[rule a]\ninterfaces = *\nusers = candtest\n' 1 "^$T/check.conf:1: \\[rule a\\] has no rights" &&
		check_conf '[rule a]\ninterfaces = *\nthis is junk\n' 1 "^$T/check.conf:3: syntax error" &&
		check_conf '[limits]\nmax_clients = 3\n[policy]\nx = y\n' 1 "^$T/check.conf:3: unknown section \\[policy\\]" || return 1
	"$CAND" -n -c "$T/nonexistent.conf" >"$T/out" 2>&1
	rc=$?
	[ "$rc" = 1 ] || err "a missing file: status $rc" || return 1
	grep -q "nonexistent.conf: No such file" "$T/out" || err "a missing file: $(cat "$T/out")"
}

# ---- who the daemon is ----

t_daemon_unprivileged() {
	local st uid want
	st=/proc/${CAND_PID:?}/status
	want=$(id -u cand) || return 1
	uid=$(awk '/^Uid:/ { print $2 " " $3 " " $4 " " $5 }' "$st")
	[ "$uid" = "$want $want $want $want" ] || err "daemon uids: $uid, want all $want (cand)" || return 1
	# CAP_NET_ADMIN is bit 12: 0x1000, in every set, and nothing else.
	for set in CapEff CapPrm CapBnd CapAmb; do
		grep -q "^$set:[[:space:]]*0000000000001000$" "$st" ||
			err "daemon $(grep "^$set:" "$st"), want only CAP_NET_ADMIN" || return 1
	done
}

# ---- the control socket ----

t_stale_socket_replaced() {
	local conf=$HERE/conf/open.conf sock=$SOCKDIR/stale.sock first
	start_daemon stale "$conf" || return 1
	first=$DPID
	kill -KILL "$first"
	wait "$first" 2>/dev/null
	[ -S "$sock" ] || err "a killed daemon left no socket file to test with" || return 1
	start_daemon stale "$conf" || return 1
	grep -q "removing stale socket" "$T/stale.log" || err "no word of the stale socket: $(cat "$T/stale.log")" || return 1
	kill -TERM "$DPID"
	wait_exit "$DPID" 30 || err "the second daemon did not exit 0"
}

t_live_socket_refused() {
	local conf=$HERE/conf/open.conf sock=$SOCKDIR/live.sock live rc
	start_daemon live "$conf" || return 1
	live=$DPID
	"$HERE/start-daemon.sh" "$BUILD" "$sock" "$conf" 2>"$T/live2.log" &
	bg_pids+=($!)
	wait_exit $! 30
	rc=$?
	[ "$rc" = 1 ] || err "a second daemon on a live socket: status $rc, want 1" || return 1
	grep -q "another cand is already listening" "$T/live2.log" || err "it did not say why: $(cat "$T/live2.log")" || return 1
	timeout 10 "$CANCTL" -s "$sock" list >/dev/null || err "the first daemon stopped answering" || return 1
	kill -TERM "$live"
	wait_exit "$live" 30 || err "the first daemon did not exit 0"
}

# ---- rules, as different users see them ----

rules_conf() { # extra users for the send rule
	cat <<CONF
[rule diag]
interfaces = vcan0
groups = diag
rights = send
send_ids = 700-7FF

[rule readers]
interfaces = vcan*
groups = can
rights = read
${1:+
[rule late]
interfaces = vcan0
users = $1
rights = send
}
CONF
}

t_id_range_on_the_bus() {
	local sock=$SOCKDIR/ids.sock
	rules_conf >"$T/ids.conf"
	chmod 644 "$T/ids.conf"
	start_daemon ids "$T/ids.conf" || return 1
	start_candump "$T/dump" vcan0 -L vcan0 || return 1
	# candtest2 is in diag: 0x700-0x7FF only, the whole request or nothing.
	if as candtest2 timeout 10 "$CANCTL" -s "$sock" send vcan0 701#11 6FF#22 2>"$T/err"; then
		err "a request with id 0x6FF was accepted" || return 1
	fi
	grep -q "'send' right for standard id 0x6FF" "$T/err" || err "refusal says: $(cat "$T/err")" || return 1
	as candtest2 timeout 10 "$CANCTL" -s "$sock" send vcan0 7AB#33 || err "0x7AB refused" || return 1
	# candtest (group can) reads but may not send.
	if as candtest timeout 10 "$CANCTL" -s "$sock" send vcan0 7AC#44 2>"$T/err"; then
		err "candtest could send" || return 1
	fi
	grep -q "lacks the 'send' right" "$T/err" || err "refusal says: $(cat "$T/err")" || return 1
	as candtest2 timeout 10 "$CANCTL" -s "$sock" send vcan0 7AD#55 || return 1
	sleep 0.3
	kill "${bg_pids[-1]}"
	grep -q 'vcan0 7AB#33' "$T/dump" || err "0x7AB is not on the bus: $(cat "$T/dump")" || return 1
	grep -q 'vcan0 7AD#55' "$T/dump" || err "0x7AD is not on the bus: $(cat "$T/dump")" || return 1
	if grep -Eq ' (6FF|701|7AC)#' "$T/dump"; then
		err "a refused frame reached the bus: $(cat "$T/dump")"
	fi
}

t_sighup_grants() {
	local sock=$SOCKDIR/hup.sock n
	rules_conf >"$T/hup.conf"
	chmod 644 "$T/hup.conf"
	start_daemon hup "$T/hup.conf" || return 1
	start_candump "$T/dump" vcan0 -L vcan0 || return 1
	if as candtest3 timeout 10 "$CANCTL" -s "$sock" send vcan0 123#01 2>/dev/null; then
		err "candtest3 could send before the reload" || return 1
	fi
	rules_conf candtest3 >"$T/hup.conf.new"
	chmod 644 "$T/hup.conf.new"
	mv "$T/hup.conf.new" "$T/hup.conf"
	n=$(grep -c "reloaded" "$T/hup.log")
	kill -HUP "$DPID"
	for _ in $(seq 200); do
		[ "$(grep -c "reloaded" "$T/hup.log")" -gt "$n" ] && break
		sleep 0.05
	done
	as candtest3 timeout 10 "$CANCTL" -s "$sock" send vcan0 124#02 2>"$T/err" ||
		err "candtest3 after the reload: $(cat "$T/err")" || return 1
	sleep 0.3
	kill "${bg_pids[-1]}"
	grep -q 'vcan0 124#02' "$T/dump" || err "0x124 is not on the bus: $(cat "$T/dump")" || return 1
	if grep -q ' 123#' "$T/dump"; then err "0x123 reached the bus"; fi
}

# ---- open file limit ----

# The soft limit goes up to the hard one and the log says so; a limit too
# low for max_clients is worth a warning.
t_nofile_raised() {
	# valgrind fakes RLIMIT_NOFILE for its guest (it keeps descriptors
	# for itself), so the limits seen under a wrapper are not cand's.
	if [ -n "${CAND_DAEMON_WRAPPER:-}" ]; then
		echo "  skipped under $CAND_DAEMON_WRAPPER"
		return 0
	fi
	printf '[limits]\nmax_clients = 100\n' >"$T/nofile.conf"
	chmod 644 "$T/nofile.conf"
	start_daemon nofile "$T/nofile.conf" prlimit --nofile=100:3000 || return 1
	grep -q "open file limit raised from 100 to 3000" "$T/nofile.log" ||
		err "log: $(cat "$T/nofile.log")" || return 1
	[ "$(awk '/^Max open files/ {print $4}' "/proc/$DPID/limits")" = 3000 ] ||
		err "limits: $(grep 'open files' "/proc/$DPID/limits")" || return 1
	if grep -q "is below" "$T/nofile.log"; then
		err "a warning for 3000 descriptors and 100 clients: $(cat "$T/nofile.log")" || return 1
	fi
	kill "$DPID"
	wait_exit "$DPID" 10
	printf '[limits]\nmax_clients = 4096\n' >"$T/nofile.conf"
	start_daemon nofile2 "$T/nofile.conf" prlimit --nofile=256:256 || return 1
	grep -q "open file limit 256, the hard limit" "$T/nofile2.log" ||
		err "log: $(cat "$T/nofile2.log")" || return 1
	grep -q "open file limit 256 is below the ~8256 that max_clients = 4096 needs" "$T/nofile2.log" ||
		err "no warning: $(cat "$T/nofile2.log")"
}

mkdir -p "$SOCKDIR"
run t_check_verdicts
run t_daemon_unprivileged
run t_stale_socket_replaced
run t_live_socket_refused
run t_id_range_on_the_bus
run t_sighup_grants
run t_nofile_raised
echo "service: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
