# shellcheck shell=bash
# What the tools' tests share beyond cli_lib.sh: waiting for the kernel's
# receiver lists to settle, recording what a command put on the bus, and
# a command's exit status and message.
# Sourced by tools.sh.

# back_to IFACE COUNT: waits until IFACE has COUNT receivers again. The
# daemon closes a gone client's socket a moment after the client exits,
# and a listener started meanwhile would seem bound before it is.
back_to() {
	local _
	for _ in $(seq 200); do
		[ "$(receivers "$1")" -le "$2" ] && return 0
		sleep 0.02
	done
	err "$1 still has $(receivers "$1") receivers, want $2"
}

# at_least IFACE COUNT: waits until IFACE has COUNT receivers or more.
at_least() {
	local _
	for _ in $(seq 200); do
		[ "$(receivers "$1")" -ge "$2" ] && return 0
		sleep 0.02
	done
	err "$1 has $(receivers "$1") receivers, want $2"
}

# fails_with STATUS PATTERN ARGS...: canctl ARGS exits STATUS and says
# something matching PATTERN on stderr.
fails_with() {
	local want=$1 pat=$2 rc
	shift 2
	canctl "$@" >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" = "$want" ] || err "canctl $*: exit $rc, want $want: $(cat "$T/err")" || return 1
	grep -Eqi "$pat" "$T/err" || err "canctl $*: no '$pat' in: $(cat "$T/err")"
}

# record OUT IFACE N CMD...: candump -L of N frames on IFACE while CMD
# runs; CMD's output in OUT.cmd, its status in $RC.
record() {
	local out=$1 dev=$2 n=$3
	shift 3
	start_candump "$out" "$dev" -L -n "$n" -T 15000 "$dev" || return 1
	"$@" >"$out.cmd" 2>&1
	RC=$?
	wait_exit "$BGPID" 20 || err "candump did not see $n frames: $(cat "$out")"
}

# log_ms FILE: milliseconds from the first candump -L line to the last.
log_ms() {
	awk -F'[()]' 'NR == 1 { f = $2 } { l = $2 } END { printf "%d\n", (l - f) * 1000 }' "$1"
}
