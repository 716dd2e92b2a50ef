# shellcheck shell=bash
# canctl list, send and dump, with candump, cansend and canplayer as the
# peers; canctl's socket option, -T and usage errors. Sourced by cli.sh,
# which calls cli_frames_tests.

t_list_shows_vcan() {
	canctl list >"$T/list" 2>&1 || err "canctl list exited $?: $(cat "$T/list")" || return 1
	grep -qw vcan0 "$T/list" || err "no vcan0 in: $(cat "$T/list")" || return 1
	grep -qw vcan1 "$T/list" || err "no vcan1 in: $(cat "$T/list")" || return 1
	grep -w vcan0 "$T/list" | grep -qw 72 || err "vcan0's line lacks mtu 72: $(cat "$T/list")"
}

t_send_three_frames() {
	start_candump "$T/dump" vcan0 -L -n 3 -T 3000 vcan0 || return 1
	canctl send vcan0 123#DEADBEEF 1F334455#R 123##1112233 >"$T/out" 2>&1 ||
		err "canctl send exited $?: $(cat "$T/out")" || return 1
	wait_exit "$BGPID" 5 || return 1
	printf 'vcan0 123#DEADBEEF\nvcan0 1F334455#R\nvcan0 123##1112233\n' >"$T/want"
	strip_ts "$T/dump" >"$T/got"
	same "$T/want" "$T/got" "what candump -L saw"
}

# cansend's dotted data is accepted too.
t_send_dotted_data() {
	start_candump "$T/dump" vcan0 -L -n 1 -T 3000 vcan0 || return 1
	canctl send vcan0 5A1#11.2233.44556677.88 >"$T/out" 2>&1 ||
		err "canctl send exited $?: $(cat "$T/out")" || return 1
	wait_exit "$BGPID" 5 || return 1
	echo 'vcan0 5A1#1122334455667788' >"$T/want"
	strip_ts "$T/dump" >"$T/got"
	same "$T/want" "$T/got" "what candump -L saw"
}

# The frames the dump comparisons use: classic, extended, RTR, empty, FD.
send_mix() {
	cansend vcan0 123#DEADBEEF &&
		cansend vcan0 1ABCDEF0#0102030405060708 &&
		cansend vcan0 321#R &&
		cansend vcan0 5AA# &&
		cansend vcan0 456##3000102030405060708090A0B
}
MIX_N=5

t_dump_log_format_matches_candump() {
	local cpid
	start_canctl "$T/canctl" vcan0 dump -L -n $MIX_N -T 5000 vcan0 || return 1
	cpid=$BGPID
	start_candump "$T/candump" vcan0 -L -n $MIX_N -T 5000 vcan0 || return 1
	send_mix || err "cansend failed" || return 1
	wait_exit "$cpid" 8 || err "canctl dump: $(cat "$T/canctl")" || return 1
	wait_exit "$BGPID" 8 || return 1
	[ "$(wc -l <"$T/canctl")" = $MIX_N ] ||
		err "canctl dump -L -n $MIX_N printed: $(cat "$T/canctl")" || return 1
	if grep -Evq '^\([0-9]+\.[0-9]{6}\) vcan0 ' "$T/canctl"; then
		err "lines without a (sec.usec) timestamp: $(cat "$T/canctl")"
		return 1
	fi
	strip_ts "$T/candump" >"$T/want"
	strip_ts "$T/canctl" >"$T/got"
	same "$T/want" "$T/got" "canctl dump -L vs candump -L"
}

t_dump_default_format_matches_candump() {
	local cpid
	start_canctl "$T/canctl" vcan0 dump -n $MIX_N -T 5000 vcan0 || return 1
	cpid=$BGPID
	start_candump "$T/candump" vcan0 -n $MIX_N -T 5000 vcan0 || return 1
	send_mix || err "cansend failed" || return 1
	wait_exit "$cpid" 8 || err "canctl dump: $(cat "$T/canctl")" || return 1
	wait_exit "$BGPID" 8 || return 1
	[ -s "$T/candump" ] || err "candump printed nothing" || return 1
	sed -e 's/##4/##0/;s/##5/##1/;s/##6/##2/;s/##7/##3/' "$T/candump" >"$T/want"
	same "$T/want" "$T/canctl" "canctl dump vs candump"
}

t_dump_log_replays_with_canplayer() {
	start_canctl "$T/log" vcan0 dump -L -n $MIX_N -T 5000 vcan0 || return 1
	send_mix || err "cansend failed" || return 1
	wait_exit "$BGPID" 8 || err "canctl dump: $(cat "$T/log")" || return 1
	start_candump "$T/replayed" vcan0 -L -n $MIX_N -T 5000 vcan0 || return 1
	timeout 10 canplayer -t -I "$T/log" >"$T/player" 2>&1 ||
		err "canplayer exited $?: $(cat "$T/player")" || return 1
	wait_exit "$BGPID" 8 || return 1
	strip_ts "$T/log" >"$T/want"
	strip_ts "$T/replayed" >"$T/got"
	[ -s "$T/want" ] || err "canctl dump -L printed nothing" || return 1
	same "$T/want" "$T/got" "replayed frames"
}

t_dump_filter_id_mask() {
	start_canctl "$T/got" vcan0 dump -L -n 2 -T 3000 vcan0 123:7FF || return 1
	cansend vcan0 124#01 && cansend vcan0 123#02 && cansend vcan0 00000123#03 &&
		cansend vcan0 125#04 || err "cansend failed" || return 1
	wait_exit "$BGPID" 6 || return 1
	# As python-can: an 11-bit mask matches the 29-bit id with those bits.
	printf 'vcan0 123#02\nvcan0 00000123#03\n' >"$T/want"
	strip_ts "$T/got" >"$T/got2"
	same "$T/want" "$T/got2" "canctl dump 123:7FF"
}

t_dump_filter_inverted() {
	start_canctl "$T/got" vcan0 dump -L -n 2 -T 3000 vcan0 123~7FF || return 1
	cansend vcan0 123#01 && cansend vcan0 124#02 && cansend vcan0 123#03 &&
		cansend vcan0 7FF#04 || err "cansend failed" || return 1
	wait_exit "$BGPID" 6 || return 1
	printf 'vcan0 124#02\nvcan0 7FF#04\n' >"$T/want"
	strip_ts "$T/got" >"$T/got2"
	same "$T/want" "$T/got2" "canctl dump 123~7FF"
}

t_dump_any_channel() {
	start_canctl "$T/got" any dump -L -n 2 -T 3000 any || return 1
	cansend vcan0 111#01 && cansend vcan1 222#02 || err "cansend failed" || return 1
	wait_exit "$BGPID" 6 || return 1
	printf 'vcan0 111#01\nvcan1 222#02\n' >"$T/want"
	strip_ts "$T/got" >"$T/got2"
	same "$T/want" "$T/got2" "canctl dump any"
}

# cand delivers error frames by default; candump needs an error mask.
t_dump_error_frames() {
	local cpid
	start_canctl "$T/canctl" vcan0 dump -L -n 1 -T 5000 vcan0 || return 1
	cpid=$BGPID
	start_candump "$T/candump" vcan0 -L -n 1 -T 5000 'vcan0,#1FFFFFFF' || return 1
	cansend vcan0 20000004#0004000000000000 || err "cansend failed" || return 1
	wait_exit "$cpid" 8 || err "canctl dump: $(cat "$T/canctl")" || return 1
	wait_exit "$BGPID" 8 || return 1
	echo 'vcan0 20000004#0004000000000000' >"$T/want"
	strip_ts "$T/candump" >"$T/got"
	same "$T/want" "$T/got" "candump's error frame" || return 1
	strip_ts "$T/canctl" >"$T/got"
	same "$T/want" "$T/got" "canctl dump's error frame"
}

t_dump_E_drops_error_frames() {
	start_canctl "$T/canctl" vcan0 dump -E -L -n 1 -T 5000 vcan0 || return 1
	cansend vcan0 20000004#0004000000000000 && cansend vcan0 123#01 ||
		err "cansend failed" || return 1
	wait_exit "$BGPID" 8 || err "canctl dump: $(cat "$T/canctl")" || return 1
	echo 'vcan0 123#01' >"$T/want"
	strip_ts "$T/canctl" >"$T/got"
	same "$T/want" "$T/got" "canctl dump -E"
}

# A malformed frame is a usage error: exit 2, and nothing at all is sent.
malformed() {
	local rc
	start_candump "$T/dump" vcan0 -L -T 1500 vcan0 || return 1
	canctl send vcan0 "$@" >"$T/out" 2>&1
	rc=$?
	wait_exit "$BGPID" 5
	[ "$rc" = 2 ] || err "canctl send vcan0 $* exited $rc, want 2: $(cat "$T/out")" || return 1
	[ -s "$T/out" ] || err "no message for canctl send vcan0 $*" || return 1
	[ ! -s "$T/dump" ] || err "sent anyway: $(cat "$T/dump")"
}

t_send_malformed_hex() {
	malformed 12#GG
}

t_send_nine_byte_classic() {
	malformed 123#010203040506070809
}

t_send_malformed_after_good_sends_nothing() {
	malformed 123#01 12#GG
}

t_send_unknown_interface() {
	local rc
	canctl send nosuchcan9 123#01 >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" = 1 ] || err "exit $rc, want 1" || return 1
	grep -Eqi 'nosuchcan9|no such' "$T/err" ||
		err "no clear message on stderr: '$(cat "$T/err")'"
}

t_dump_unknown_interface() {
	local rc
	canctl dump -T 500 nosuchcan9 >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" = 1 ] || err "exit $rc, want 1" || return 1
	grep -Eqi 'nosuchcan9|no such' "$T/err" ||
		err "no clear message on stderr: '$(cat "$T/err")'"
}

t_socket_from_env_and_option() {
	env -u CAND_SOCKET timeout 10 "$CANCTL" -s "$SOCK" list >/dev/null 2>&1 ||
		err "-s SOCKET without CAND_SOCKET failed" || return 1
	env CAND_SOCKET="$SOCK" timeout 10 "$CANCTL" list >/dev/null 2>&1 ||
		err "CAND_SOCKET without -s failed" || return 1
	env CAND_SOCKET=/nonexistent/cand.sock timeout 10 "$CANCTL" list >/dev/null 2>&1
	[ $? = 1 ] || err "CAND_SOCKET=/nonexistent/cand.sock list: want exit 1" || return 1
	env CAND_SOCKET=/nonexistent/cand.sock timeout 10 "$CANCTL" -s "$SOCK" list \
		>/dev/null 2>&1 || err "-s does not override CAND_SOCKET"
}

t_dump_T_exits_on_its_own() {
	local start end rc
	start=$(date +%s%N)
	timeout 10 "$CANCTL" dump -T 500 vcan1 >"$T/out" 2>&1
	rc=$?
	end=$(date +%s%N)
	[ "$rc" != 124 ] || err "canctl dump -T 500 did not exit by itself" || return 1
	[ "$rc" = 0 ] || err "canctl dump -T 500 exited $rc: $(cat "$T/out")" || return 1
	[ $(((end - start) / 1000000)) -ge 400 ] || err "exited after $(((end - start) / 1000000)) ms"
}

t_usage_errors() {
	local rc
	timeout 10 "$CANCTL" >/dev/null 2>&1
	rc=$?
	[ "$rc" = 2 ] || err "no command: exit $rc, want 2" || return 1
	canctl frobnicate >/dev/null 2>&1
	rc=$?
	[ "$rc" = 2 ] || err "unknown command: exit $rc, want 2" || return 1
	canctl send >/dev/null 2>&1
	rc=$?
	[ "$rc" = 2 ] || err "send without an interface: exit $rc, want 2" || return 1
	canctl dump -n >/dev/null 2>&1
	rc=$?
	[ "$rc" = 2 ] || err "dump -n without a count: exit $rc, want 2" || return 1
	canctl dump vcan0 123:XYZ >/dev/null 2>&1
	rc=$?
	[ "$rc" = 2 ] || err "dump with a bad filter: exit $rc, want 2" || return 1
	canctl help >"$T/help" 2>&1 || err "canctl help exited $?" || return 1
	grep -q dump "$T/help" || err "canctl help does not mention dump"
}

cli_frames_tests() {
	run t_list_shows_vcan
	run t_send_three_frames
	run t_send_dotted_data
	run t_dump_log_format_matches_candump
	run t_dump_default_format_matches_candump
	run t_dump_log_replays_with_canplayer
	run t_dump_filter_id_mask
	run t_dump_filter_inverted
	run t_dump_any_channel
	run t_dump_error_frames
	run t_dump_E_drops_error_frames
	run t_send_malformed_hex
	run t_send_nine_byte_classic
	run t_send_malformed_after_good_sends_nothing
	run t_send_unknown_interface
	run t_dump_unknown_interface
	run t_socket_from_env_and_option
	run t_dump_T_exits_on_its_own
	run t_usage_errors
}
