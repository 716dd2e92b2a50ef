# shellcheck shell=bash
# The counted checks of the shell test scripts (systemd.sh,
# systemd_restart.sh, tests/deb/guest.sh, tests/soak/soak.sh), sourced
# after setting CHECKS_NAME, which starts every line: "PASS: NAME: what
# [uptime]". checks_summary prints the last line, "NAME: N passed, N
# failed", and exits, 0 when nothing failed.
passed=0
failed=0

# Seconds since boot on each line: the emulated VM is slow, so say where.
up() { cut -d' ' -f1 /proc/uptime; }
pass() {
	passed=$((passed + 1))
	echo "PASS: $CHECKS_NAME: $* [$(up)s]"
}
fail() {
	failed=$((failed + 1))
	echo "FAIL: $CHECKS_NAME: $* [$(up)s]"
}
# check WHAT CMD...: passes when CMD succeeds.
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
checks_summary() {
	echo "$CHECKS_NAME: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}
# as USER CMD...: CMD as USER with USER's groups.
as() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$u" --init-groups -- "$@"
}
# wait_for SECS CMD...: until CMD succeeds; generous, the VM is emulated.
wait_for() {
	local secs=$1 _
	shift
	for _ in $(seq $((secs * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
