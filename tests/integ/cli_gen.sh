# shellcheck shell=bash
# canctl gen beside cangen: the same -v lines and the same frames for
# the fixed and incrementing modes, exact counts in a flood, the pace of
# -g and -c, a real controller's full TX queue, and bad numbers.
# Sourced by tools.sh.

# tx_packets IFACE: the interface's TX counter.
tx_packets() {
	cat "/sys/class/net/$1/statistics/tx_packets"
}

t_gen_verbose_matches_cangen() {
	local args v
	for args in "-I 123 -L 4 -D 11223344" "-e -I 12345678 -L 8 -D 0102030405060708" \
		"-R -I 321 -L 2" "-f -b -I 456 -L 12 -D 41424344454647484950515253" \
		"-E -I 7FF -L 3 -D 7E7F20" "-I i -L i -D i"; do
		for v in "-v" "-v -v" "-v -v -v"; do
			# shellcheck disable=SC2086 # the options are words
			cangen vcan0 -g 1 -n 10 $args $v >"$T/want" 2>&1
			# shellcheck disable=SC2086
			canctl gen -g 1 -n 10 $args $v vcan0 >"$T/got" 2>&1 ||
				err "canctl gen $args $v exited $?: $(cat "$T/got")" || return 1
			same "$T/want" "$T/got" "canctl gen $args $v vs cangen" || return 1
		done
	done
}

# The frames themselves, as candump sees them, classic and FD.
t_gen_increments_match_cangen() {
	local args n=40
	for args in "-I i -L i -D i" "-f -I i -L i -D i" "-e -R -I i -L i" \
		"-f -E -I 1F -L i -D 00112233445566778899AABBCCDDEEFF"; do
		# shellcheck disable=SC2086
		record "$T/want" vcan0 $n cangen vcan0 -g 1 -n $n $args || return 1
		# shellcheck disable=SC2086
		record "$T/got" vcan0 $n timeout 20 "$CANCTL" gen -g 1 -n $n $args vcan0 || return 1
		[ "$RC" = 0 ] || err "canctl gen $args exited $RC: $(cat "$T/got.cmd")" || return 1
		strip_ts "$T/want" >"$T/want2"
		strip_ts "$T/got" >"$T/got2"
		same "$T/want2" "$T/got2" "what candump saw of canctl gen $args vs cangen" || return 1
	done
}

# A flood of random frames: exactly -n of them, of the kinds asked for.
t_gen_flood_counts_and_kinds() {
	local args before n=3000
	for args in "" "-e" "-f -b" "-m"; do
		before=$(tx_packets vcan0)
		# shellcheck disable=SC2086
		start_candump "$T/got" vcan0 -L -r 8000000 -n $n -T 15000 vcan0 || return 1
		# shellcheck disable=SC2086
		canctl gen -g 0 -n $n $args vcan0 >"$T/out" 2>&1 ||
			err "canctl gen -g 0 $args exited $?: $(cat "$T/out")" || return 1
		wait_exit "$BGPID" 20 || return 1
		[ $(($(tx_packets vcan0) - before)) = $n ] ||
			err "gen $args: vcan0 sent $(($(tx_packets vcan0) - before)), want $n" || return 1
		[ "$(wc -l <"$T/got")" = $n ] || err "candump saw $(wc -l <"$T/got") of $n" || return 1
		case "$args" in
		"") grep -Evq ' [0-7][0-9A-F]{2}#([0-9A-F]{2}){0,8}$' "$T/got" && err "not SFF: $(grep -Ev ' [0-7][0-9A-F]{2}#([0-9A-F]{2}){0,8}$' "$T/got" | head -3)" && return 1 ;;
		-e) grep -Evq ' [01][0-9A-F]{7}#([0-9A-F]{2}){0,8}$' "$T/got" && err "not EFF: $(head -3 "$T/got")" && return 1 ;;
		"-f -b") grep -Evq '#(#1|#5)([0-9A-F]{2})*$' "$T/got" && err "not FD with BRS: $(head -3 "$T/got")" && return 1 ;;
		-m)
			grep -q '##' "$T/got" && grep -Eq ' [0-9A-F]{3}#[0-9A-F]*$' "$T/got" &&
				grep -Eq ' [0-9A-F]{8}#' "$T/got" && grep -q '#R' "$T/got" ||
				err "-m lacks a kind: $(head -5 "$T/got")" || return 1
			;;
		esac
	done
}

# -g 10 paces 30 frames over 290 ms or more; -c 5 -g 50 sends bursts.
t_gen_gap_and_burst() {
	local span
	record "$T/got" vcan0 30 timeout 20 "$CANCTL" gen -g 10 -n 30 -I 100 vcan0 || return 1
	span=$(log_ms "$T/got")
	[ "$span" -ge 285 ] || err "30 frames at -g 10 in $span ms" || return 1
	record "$T/got" vcan0 20 timeout 20 "$CANCTL" gen -g 50 -c 5 -n 20 -I 100 vcan0 || return 1
	span=$(log_ms "$T/got")
	[ "$span" -ge 145 ] || err "4 bursts at -g 50 in $span ms" || return 1
	# Within a burst the frames go together: 16 of 19 gaps are under
	# half the gap between bursts.
	awk -F'[()]' 'NR > 1 && ($2 - l) < 0.025 { n++ } { l = $2 } END { exit n < 16 }' "$T/got" ||
		err "-c 5: no bursts; the gaps (us): $(awk -F'[()]' 'NR > 1 { printf "%d ", ($2 - l) * 1000000 } { l = $2 }' "$T/got")"
}

# settled_tx IFACE WANT: waits (5 s at most) for the TX counter to reach
# WANT or stop moving, which it does a moment after the last frame.
settled_tx() {
	local last=-1 now _
	for _ in $(seq 50); do
		now=$(tx_packets "$1")
		[ "$now" -ge "$2" ] || [ "$now" = "$last" ] && break
		last=$now
		sleep 0.1
	done
	tx_packets "$1"
}

# can0's TX queue fills: -p waits as cangen does, the default lets the
# daemon retry, -i drops and counts. The controller alone drains about as
# fast as the daemon sends under the emulator, so a token bucket in front
# of it (about 1500 frames/s, 100 queued) makes the queue full for
# certain. can0's TX counter says what went out (can1's emulated receiver
# overflows at full load).
t_gen_full_tx_queue() {
	local before after n=1500 args dropped rc=0
	modprobe sch_tbf 2>/dev/null
	tc qdisc add dev can0 root tbf rate 200kbit burst 1600 limit 1600 ||
		err "tc: no token bucket on can0" || return 1
	for args in "-p 10" "" "-i"; do
		before=$(tx_packets can0)
		# shellcheck disable=SC2086 # the options are words
		timeout 60 "$CANCTL" gen -g 0 -n $n -I 123 -L 8 $args can0 >"$T/out" 2>&1 ||
			err "canctl gen $args on can0 exited $?: $(cat "$T/out")" || { rc=1; break; }
		dropped=0
		if [ "$args" = -i ]; then
			dropped=$(sed -n 's/^Counted \([0-9]*\) ENOBUFS.*/\1/p' "$T/out")
			[ -n "$dropped" ] || err "-i: no count of drops: $(cat "$T/out")" || { rc=1; break; }
		fi
		after=$(settled_tx can0 $((before + n - dropped)))
		[ $((after - before + dropped)) = $n ] ||
			err "gen $args: can0 sent $((after - before)), dropped $dropped, want $n" || { rc=1; break; }
	done
	tc qdisc del dev can0 root
	return $rc
}

t_gen_bad_numbers() {
	exit_is 2 'out of range' gen -g -1 vcan0 || return 1
	exit_is 2 'out of range' gen -g 99999999 vcan0 || return 1
	exit_is 2 'out of range' gen -g soon vcan0 || return 1
	exit_is 2 'bad count' gen -n 0 vcan0 || return 1
	exit_is 2 'bad burst' gen -c 0 vcan0 || return 1
	exit_is 2 'need -e' gen -I 800 vcan0 || return 1
	exit_is 2 'bad CAN id' gen -I xyz vcan0 || return 1
	exit_is 2 'bad length' gen -L 65 vcan0 || return 1
	exit_is 2 'bad data' gen -D 123 vcan0 || return 1
	exit_is 2 'bad poll' gen -p 0 vcan0 || return 1
	exit_is 2 'one interface' gen -n 1 || return 1
	exit_is 1 'not CAN FD capable' gen -f -n 1 vcan1 || return 1
	exit_is 1 'nosuchcan9|no such' gen -n 1 nosuchcan9
}

cli_gen_tests() {
	run t_gen_verbose_matches_cangen
	run t_gen_increments_match_cangen
	run t_gen_flood_counts_and_kinds
	run t_gen_gap_and_burst
	run t_gen_full_tx_queue
	run t_gen_bad_numbers
}
