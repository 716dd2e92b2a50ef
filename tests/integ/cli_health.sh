# shellcheck shell=bash
# canctl state, set, restart and events, against ip -details and the
# daemon's log. Sourced by cli.sh, which calls cli_health_tests and then
# restore_controllers.

# can0/can1 as the VM sets them up, for the tests that change them.
restore_controllers() {
	local d
	for d in can0 can1; do
		ip link set "$d" down &&
			ip link set "$d" type can bitrate 500000 sample-point 0.875 \
				restart-ms 100 listen-only off &&
			ip link set "$d" up
	done 2>/dev/null
}

# ip_says DEV TEXT: ip -details link show DEV mentions TEXT.
ip_says() {
	ip -details link show "$1" | grep -q -- "$2" ||
		err "ip -details link show $1 lacks '$2': $(ip -details link show "$1")"
}

t_state_table() {
	local d
	canctl state can0 >"$T/out" 2>&1 || err "canctl state can0 exited $?: $(cat "$T/out")" || return 1
	grep -q '^can0: up, running; hardware (can)' "$T/out" &&
		grep -q 'state ERROR-ACTIVE  berr-counter tx 0 rx 0' "$T/out" &&
		grep -q 'bitrate 500000 sample-point 0.875  restart-ms 100' "$T/out" &&
		grep -q 're-started bus-errors arbit-lost error-warn error-pass bus-off' "$T/out" &&
		grep -q 'RX: bytes' "$T/out" ||
		err "canctl state can0 printed: $(cat "$T/out")" || return 1
	# vcan1: other tests write error frames to vcan0, which then has a state.
	canctl state vcan1 >"$T/out" 2>&1 || err "canctl state vcan1 exited $?" || return 1
	grep -q 'state not applicable (no controller)' "$T/out" ||
		err "canctl state vcan1 printed: $(cat "$T/out")" || return 1
	grep -q bitrate "$T/out" && err "vcan1 with a bitrate: $(cat "$T/out")" && return 1
	canctl state >"$T/out" 2>&1 || err "canctl state exited $?" || return 1
	for d in can0 can1 vcan0 vcan1; do
		grep -q "^$d: " "$T/out" || err "no $d in: $(cat "$T/out")" || return 1
	done
}

t_state_unknown_interface() {
	local rc
	canctl state nosuchcan9 >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" = 1 ] || err "exit $rc, want 1" || return 1
	grep -q nosuchcan9 "$T/err" || err "no clear message: '$(cat "$T/err")'"
}

t_set_bitrate_read_back() {
	restore_controllers
	canctl set can0 bitrate 250000 >"$T/out" 2>&1 ||
		err "canctl set can0 bitrate 250000 exited $?: $(cat "$T/out")" || return 1
	grep -q 'taken down, configured and brought back up' "$T/out" ||
		err "no word of the down and up: $(cat "$T/out")" || return 1
	ip_says can0 'bitrate 250000' || return 1
	ip_says can0 'state UP' || return 1
	canctl state can0 | grep -q 'bitrate 250000' || err "canctl state does not say 250000" || return 1
	canctl set can0 bitrate 500000 sample-point 0.875 >"$T/out" 2>&1 ||
		err "setting it back exited $?: $(cat "$T/out")" || return 1
	ip_says can0 'bitrate 500000 sample-point 0.875'
}

t_set_restart_ms_and_modes() {
	restore_controllers
	canctl set can1 restart-ms 0 listen-only on >"$T/out" 2>&1 ||
		err "canctl set exited $?: $(cat "$T/out")" || return 1
	ip_says can1 'restart-ms 0' || return 1
	ip_says can1 'LISTEN-ONLY' || return 1
	grep -q 'ctrlmode LISTEN-ONLY' "$T/out" || err "canctl set printed: $(cat "$T/out")" || return 1
	canctl set can1 restart-ms 100 listen-only off >"$T/out" 2>&1 ||
		err "setting it back exited $?: $(cat "$T/out")" || return 1
	ip_says can1 'restart-ms 100'
}

t_set_down_and_up() {
	canctl set vcan1 down >"$T/out" 2>&1 || err "set vcan1 down exited $?: $(cat "$T/out")" || return 1
	ip link show vcan1 | grep -q 'state DOWN' || err "vcan1 is not down" || return 1
	canctl set vcan1 up >"$T/out" 2>&1 || err "set vcan1 up exited $?: $(cat "$T/out")" || return 1
	ip link show vcan1 | grep -q ',UP' || err "vcan1 is not up: $(ip link show vcan1)"
}

t_set_unprivileged() {
	local rc
	setpriv --reuid=candtest --regid=candtest --init-groups \
		timeout 10 "$CANCTL" set can0 bitrate 125000 >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" = 1 ] || err "uid candtest: exit $rc, want 1" || return 1
	grep -q 'permission denied' "$T/err" || err "no clear message: '$(cat "$T/err")'" || return 1
	ip_says can0 'bitrate 500000'
}

t_set_refused_with_reason() {
	local rc
	canctl set vcan0 bitrate 500000 >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" = 1 ] || err "bitrate on vcan0: exit $rc, want 1" || return 1
	grep -q 'virtual' "$T/err" || err "no reason: '$(cat "$T/err")'" || return 1
	canctl restart can0 >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" = 1 ] || err "restart can0: exit $rc, want 1" || return 1
	grep -q 'restart-ms is 100' "$T/err" || err "no reason: '$(cat "$T/err")'"
}

t_set_usage_errors() {
	local rc args
	for args in "can0" "can0 bitrate" "can0 bitrate fast" "can0 sample-point 1.5" \
		"can0 listen-only maybe" "can0 frobnicate 1" "can0 restart-ms -1"; do
		# shellcheck disable=SC2086 # word splitting wanted
		canctl set $args >/dev/null 2>&1
		rc=$?
		[ "$rc" = 2 ] || err "canctl set $args: exit $rc, want 2" || return 1
	done
	canctl restart >/dev/null 2>&1
	rc=$?
	[ "$rc" = 2 ] || err "restart without an interface: exit $rc, want 2" || return 1
	canctl events -n 0 >/dev/null 2>&1
	rc=$?
	[ "$rc" = 2 ] || err "events -n 0: exit $rc, want 2"
}

# Waits until the daemon logged a subscription to IFACE's events.
wait_subscribed() {
	local _
	for _ in $(seq 200); do
		grep -q "subscribed to events of $1\$" "${CAND_LOG:?}" && return 0
		sleep 0.02
	done
	err "no subscription to $1 in the daemon's log"
}

t_events_stream() {
	ip link del vcan6 2>/dev/null
	spawn "$T/ev" "$CANCTL" events -n 6 -T 10000 vcan6
	wait_subscribed vcan6 || return 1
	ip link add vcan6 type vcan && ip link set vcan6 up &&
		cansend vcan6 20000204#0020000000008000 &&
		cansend vcan6 20000040#0000000000000000 &&
		ip link del vcan6 || err "setting up vcan6 failed" || return 1
	wait_exit "$BGPID" 10 || err "canctl events: $(cat "$T/ev")" || return 1
	cat >"$T/want" <<-EOF
		vcan6 link appeared down
		vcan6 link up
		vcan6 state not applicable -> ERROR-PASSIVE tx 128 rx 0 (from error frames)
		vcan6 state ERROR-PASSIVE -> BUS-OFF tx 128 rx 0 (from error frames)
		vcan6 link down
		vcan6 link removed
	EOF
	same "$T/want" "$T/ev" "canctl events vcan6"
}

cli_health_tests() {
	run t_state_table
	run t_state_unknown_interface
	run t_set_bitrate_read_back
	run t_set_restart_ms_and_modes
	run t_set_down_and_up
	run t_set_unprivileged
	run t_set_refused_with_reason
	run t_set_usage_errors
	run t_events_stream
}
