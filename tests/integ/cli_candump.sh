# shellcheck shell=bash
# canctl dump with candump's options, diffed with candump itself on the
# same bus: both sockets see the same kernel timestamps, so even -t lines
# must be byte for byte the same. Sourced by tools.sh.

# Frames for the comparisons: text for -a, extended, remote, empty, FD
# with BRS and with ESI, and bytes outside ASCII.
candump_mix() {
	cansend vcan0 123#48656C6C6F &&
		cansend vcan0 1ABCDEF0#0102030405060708 &&
		cansend vcan0 321#R &&
		cansend vcan0 5AA# &&
		cansend vcan0 456##1000102030405060708090A0B &&
		cansend vcan0 457##2 &&
		cansend vcan0 7FF#7E7F2021
}
CANDUMP_MIX_N=7

# same_as_candump "OPTIONS" IFACE... : canctl dump and candump with the
# options on the interfaces, the mix sent on vcan0, their outputs equal.
same_as_candump() {
	local opts=$1 cpid base
	shift
	base=$(receivers "$1")
	same_as_candump_run "$opts" "$@" || return 1
	back_to "$1" "$base"
}

same_as_candump_run() {
	local opts=$1 cpid
	shift
	# shellcheck disable=SC2086 # the options are words
	start_canctl "$T/canctl" "$1" dump -E $opts -n $CANDUMP_MIX_N -T 15000 "$@" || return 1
	cpid=$BGPID
	# shellcheck disable=SC2086
	start_candump "$T/candump" "$1" $opts -n $CANDUMP_MIX_N -T 15000 "$@" || return 1
	candump_mix || err "cansend failed" || return 1
	wait_exit "$cpid" 20 || err "canctl dump $opts: $(cat "$T/canctl")" || return 1
	wait_exit "$BGPID" 20 || return 1
	[ -s "$T/candump" ] || err "candump $opts printed nothing" || return 1
	# Newer kernels mark every FD frame with CANFD_FDF (4) in -L's flags.
	sed -e 's/##4/##0/;s/##5/##1/;s/##6/##2/;s/##7/##3/' "$T/candump" >"$T/want"
	same "$T/want" "$T/canctl" "canctl dump $opts vs candump $opts"
}

t_candump_stamps() {
	local mode
	for mode in a A d z; do
		same_as_candump "-t$mode" vcan0 || return 1
	done
}

t_candump_ascii() {
	same_as_candump "-a" vcan0 && same_as_candump "-a -ta" vcan0
}

t_candump_extra() {
	same_as_candump "-x" vcan0 && same_as_candump "-x -L" vcan0
}

t_candump_colours() {
	same_as_candump "-c" vcan0 && same_as_candump "-c -c" vcan0 &&
		same_as_candump "-c -c -c -td" vcan0
}

# Interfaces of their own words, as candump takes them, and the any
# channel; frames a while apart so that both put them in the same order.
t_candump_two_interfaces() {
	local opts cpid base
	base=$(receivers vcan1)
	for opts in "-L" "-c -c -c -ta -x"; do
		# shellcheck disable=SC2086
		start_canctl "$T/canctl" vcan1 dump $opts -n 3 -T 15000 vcan0 vcan1 || return 1
		cpid=$BGPID
		# shellcheck disable=SC2086
		start_candump "$T/candump" vcan1 $opts -n 3 -T 15000 vcan0 vcan1 || return 1
		cansend vcan1 111#01 && sleep 0.1 && cansend vcan0 222#02 && sleep 0.1 &&
			cansend vcan1 12345678#03 || err "cansend failed" || return 1
		wait_exit "$cpid" 20 || err "canctl dump: $(cat "$T/canctl")" || return 1
		wait_exit "$BGPID" 20 || return 1
		same "$T/candump" "$T/canctl" "canctl dump $opts vcan0 vcan1 vs candump" || return 1
		back_to vcan1 "$base" || return 1
	done
}

# The issue's spelling: one word, the interfaces between commas.
t_candump_comma_interfaces() {
	start_canctl "$T/canctl" vcan1 dump -L -n 2 -T 15000 vcan0,vcan1,111:7FF || return 1
	cansend vcan1 222#02 && cansend vcan0 333#03 && cansend vcan1 111#01 ||
		err "cansend failed" || return 1
	wait_exit "$BGPID" 20 || err "canctl dump: $(cat "$T/canctl")" || return 1
	printf 'vcan0 333#03\nvcan1 111#01\n' >"$T/want"
	strip_ts "$T/canctl" >"$T/got"
	same "$T/want" "$T/got" "vcan0 and vcan1 with 111:7FF"
}

# A frame sent on can0 is TX on can0 and RX on can1, which received it
# over the (emulated) wire. The two sockets race, so lines are sorted.
t_candump_rx_tx_on_a_real_bus() {
	local cpid
	start_canctl "$T/canctl" can1 dump -x -n 4 -T 15000 can0 can1 || return 1
	cpid=$BGPID
	start_candump "$T/candump" can1 -x -n 4 -T 15000 can0 can1 || return 1
	cansend can0 123#11 && cansend can0 12345678#2233 || err "cansend failed" || return 1
	wait_exit "$cpid" 20 || err "canctl dump: $(cat "$T/canctl")" || return 1
	wait_exit "$BGPID" 20 || return 1
	grep -q '^  can1  RX - -  123' "$T/canctl" && grep -q '^  can0  TX - -  123' "$T/canctl" ||
		err "no RX on can1 and TX on can0: $(cat "$T/canctl")" || return 1
	sort "$T/candump" >"$T/want"
	sort "$T/canctl" >"$T/got"
	same "$T/want" "$T/got" "canctl dump -x can0 can1 vs candump (sorted)"
}

# -l: the same file name pattern, messages and contents as candump -l.
t_candump_logfile() {
	local cpid base
	base=$(receivers vcan0)
	mkdir -p "$T/l1" "$T/l2"
	(cd "$T/l1" && exec "$CANCTL" dump -l -x -n 3 -T 15000 vcan0 >"$T/out1" 2>"$T/err1") &
	cpid=$!
	bg_pids+=("$cpid")
	(cd "$T/l2" && exec candump -l -x -n 3 -T 15000 vcan0 >"$T/out2" 2>"$T/err2") &
	BGPID=$!
	bg_pids+=("$BGPID")
	at_least vcan0 $((base + 2)) || return 1
	cansend vcan0 123#11 && cansend vcan0 456##1AA && cansend vcan0 12345678#R ||
		err "cansend failed" || return 1
	wait_exit "$cpid" 20 || err "canctl dump -l: $(cat "$T/err1")" || return 1
	wait_exit "$BGPID" 20 || return 1
	[ ! -s "$T/out1" ] || err "canctl dump -l printed: $(cat "$T/out1")" || return 1
	ls "$T/l1" | grep -Eqx 'candump-[0-9]{4}-[0-9]{2}-[0-9]{2}_[0-9]{6}\.log' ||
		err "log file name: $(ls "$T/l1")" || return 1
	sed 's/candump-[0-9_-]*\.log/NAME/' "$T/err2" >"$T/want"
	sed 's/candump-[0-9_-]*\.log/NAME/' "$T/err1" >"$T/got"
	same "$T/want" "$T/got" "the messages of -l" || return 1
	sed -e 's/##5/##1/' "$T"/l2/candump-*.log >"$T/want"
	same "$T/want" "$T"/l1/candump-*.log "the log file"
}

t_candump_silent() {
	local level cpid base
	base=$(receivers vcan0)
	for level in 1 2; do
		start_canctl "$T/canctl" vcan0 dump -s $level -n 5 -T 15000 vcan0 || return 1
		cpid=$BGPID
		start_candump "$T/candump" vcan0 -s $level -n 5 -T 15000 vcan0 || return 1
		for i in 1 2 3 4 5; do cansend vcan0 12$i#0$i || return 1; done
		wait_exit "$cpid" 20 || return 1
		wait_exit "$BGPID" 20 || return 1
		same "$T/candump" "$T/canctl" "canctl dump -s $level vs candump" || return 1
		back_to vcan0 "$base" || return 1
	done
}

t_candump_bad_options() {
	local args rc i many=""
	for i in $(seq 17); do many="$many vcan0"; done
	for args in "-t x vcan0" "-t ab vcan0" "-s 3 vcan0" "-s x vcan0" "-L -a vcan0" \
		"123:7FF vcan0" "vcan0,#FF" "$many" "vcan0 ,vcan1" "abcdefghijklmnopq"; do
		# shellcheck disable=SC2086
		canctl dump -T 100 $args >"$T/out" 2>&1
		rc=$?
		[ "$rc" = 2 ] || err "canctl dump $args: exit $rc, want 2: $(cat "$T/out")" || return 1
		[ -s "$T/out" ] || err "canctl dump $args: no message" || return 1
	done
	canctl dump -T 100 vcan0 nosuchcan9 >"$T/out" 2>&1
	rc=$?
	[ "$rc" = 1 ] || err "canctl dump vcan0 nosuchcan9: exit $rc, want 1" || return 1
	grep -q nosuchcan9 "$T/out" || err "no word of nosuchcan9: $(cat "$T/out")"
}

cli_candump_tests() {
	run t_candump_stamps
	run t_candump_ascii
	run t_candump_extra
	run t_candump_colours
	run t_candump_two_interfaces
	run t_candump_comma_interfaces
	run t_candump_rx_tx_on_a_real_bus
	run t_candump_logfile
	run t_candump_silent
	run t_candump_bad_options
}
