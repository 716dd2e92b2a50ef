# shellcheck shell=bash
# What the tools' tests share beyond cli_lib.sh: waiting for the kernel's
# receiver lists to settle, and a command's exit status and message.
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
