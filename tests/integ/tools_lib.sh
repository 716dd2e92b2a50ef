# shellcheck shell=bash
# What the tools' tests share beyond cli_lib.sh: waiting for the kernel's
# receiver lists to settle, and recording what a command put on the bus.
# Sourced by tools.sh.

# receivers_reach IFACE -le|-ge COUNT: waits until IFACE's receivers
# compare so with COUNT.
receivers_reach() {
	local _
	for _ in $(seq 200); do
		test "$(receivers "$1")" "$2" "$3" && return 0
		sleep 0.02
	done
	err "$1 has $(receivers "$1") receivers, want $2 $3"
}

# back_to IFACE COUNT: waits until IFACE has COUNT receivers again. The
# daemon closes a gone client's socket a moment after the client exits,
# and a listener started meanwhile would seem bound before it is.
back_to() {
	receivers_reach "$1" -le "$2"
}

# at_least IFACE COUNT: waits until IFACE has COUNT receivers or more.
at_least() {
	receivers_reach "$1" -ge "$2"
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
