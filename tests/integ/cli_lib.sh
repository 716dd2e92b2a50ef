# shellcheck shell=bash
# What the canctl tests share, sourced by cli.sh, tools.sh and service.sh:
# running a test, its errors, listeners that have bound when they return,
# waiting for a process, comparing output, a failure's status and message.
# Uses the caller's CANCTL, T, passed and failed.

# Background processes of the current test, ended with it: a stopped one
# is continued so that it can die, and each is waited for, so that none
# holds a socket or an interface into the next test.
bg_pids=()
kill_bg() {
	local p
	for p in "${bg_pids[@]}"; do
		kill "$p" 2>/dev/null && kill -CONT "$p" 2>/dev/null
	done
	for p in "${bg_pids[@]}"; do wait "$p" 2>/dev/null; done
}

# Runs a test function in a subshell; it fails with a message on stderr.
# CLI_CASE (a glob) narrows a run to the tests it names; SUITE names them
# in the PASS and FAIL lines.
run() {
	local name=$1
	# shellcheck disable=SC2053 # CLI_CASE is a pattern
	[[ $name == ${CLI_CASE:-*} ]] || return 0
	echo "---- $name"
	if (
		trap kill_bg EXIT
		"$name"
	); then
		passed=$((passed + 1))
		echo "PASS: ${SUITE:-cli}:$name"
	else
		failed=$((failed + 1))
		echo "FAIL: ${SUITE:-cli}:$name"
	fi
}

err() {
	echo "  $*" >&2
	return 1
}

canctl() {
	timeout 10 "$CANCTL" "$@"
}

# candump -L's "(sec.usec) " removed; the kernel's CANFD_FDF flag (4),
# which newer kernels set on every FD frame, masked from "##<flags>".
strip_ts() {
	sed -E 's/^\([0-9]+\.[0-9]+\) //' "$@" |
		sed -e 's/##4/##0/;s/##5/##1/;s/##6/##2/;s/##7/##3/'
}

# spawn OUTFILE CMD...: starts CMD in the background, output to OUTFILE,
# and sets $BGPID to its pid.
spawn() {
	local out=$1
	shift
	"$@" >"$out" 2>&1 &
	BGPID=$!
	bg_pids+=("$BGPID")
}

# Receivers the kernel has registered on an interface ("any" for sockets
# bound to every one): a listener has bound once its count goes up.
receivers() {
	cat /proc/net/can/rcvlist_{all,fil,inv,sff,eff,err} | awk -v d="$1" '$1 == d' | wc -l
}

# wait_bound IFACE BEFORE OUTFILE WHAT: waits for a new receiver on IFACE.
wait_bound() {
	local _
	for _ in $(seq 200); do
		[ "$(receivers "$1")" -gt "$2" ] && return 0
		kill -0 "$BGPID" 2>/dev/null || break
		sleep 0.02
	done
	err "$4 did not bind to $1: $(cat "$3")"
}

# start_candump OUTFILE IFACE ARGS...: candump ARGS in the background,
# listening on IFACE when this returns.
start_candump() {
	local out=$1 dev=$2 before
	shift 2
	before=$(receivers "$dev")
	spawn "$out" candump "$@"
	wait_bound "$dev" "$before" "$out" "candump $*"
}

# start_canctl OUTFILE IFACE ARGS...: the same for canctl ARGS.
start_canctl() {
	local out=$1 dev=$2 before
	shift 2
	before=$(receivers "$dev")
	spawn "$out" "$CANCTL" "$@"
	wait_bound "$dev" "$before" "$out" "canctl $*"
}

# Waits for pid to exit by itself within seconds; returns its status.
wait_exit() {
	local pid=$1 secs=$2 _
	for _ in $(seq $((secs * 20))); do
		if ! kill -0 "$pid" 2>/dev/null ||
			grep -q '^[0-9]* ([^)]*) Z' "/proc/$pid/stat" 2>/dev/null; then
			wait "$pid"
			return
		fi
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	echo "  pid $pid did not exit within $secs s" >&2
	return 124
}

# same WANT_FILE GOT_FILE WHAT
same() {
	if ! cmp -s "$1" "$2"; then
		echo "  $3 differs (want, got):" >&2
		diff -u "$1" "$2" | sed 's/^/  /' >&2
		return 1
	fi
}

# exit_is WANT PATTERN ARGS...: canctl ARGS exits WANT and says something
# matching PATTERN on stderr.
exit_is() {
	local want=$1 pat=$2 rc
	shift 2
	canctl "$@" >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" = "$want" ] || err "canctl $*: exit $rc, want $want: $(cat "$T/err")" || return 1
	grep -Eqi "$pat" "$T/err" || err "canctl $*: no '$pat' in: $(cat "$T/err")"
}
