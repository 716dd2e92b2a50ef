# shellcheck shell=bash
# canctl busload beside canbusload on the same traffic: idle lines byte
# for byte, the same sums of frames and bits over a run in each counting,
# and known loads on a real controller (its bitrate from cand) and on CAN
# FD with BRS. Sourced by tools.sh.

# columns FILE: "frames bits payload" summed over every interface line.
columns() {
	awk '$1 ~ /@/ { f += $2; b += $3; p += $4 } END { printf "%d %d %d\n", f, b, p }' "$1"
}

# Every line's percent and bar follow from its bits at RATE (classic).
check_lines() {
	awk -v rate="$2" '$1 ~ /@/ {
		want = int($3 * 100 / rate); sub(/%/, "", $5)
		bar = $6; marks = gsub(/X/, "", bar)
		if ($5 != want || marks != int((want > 100 ? 100 : want) / 5)) {
			print "bad line: " $0; bad = 1
		}
	} END { exit bad }' "$1" >&2
}

# Nothing on vcan1: the lines are canbusload -b's, colours too.
t_busload_idle_matches_canbusload() {
	local opts
	for opts in "" "-c"; do
		# shellcheck disable=SC2086 # options are words
		spawn "$T/want" canbusload $opts -b vcan1@500000
		# shellcheck disable=SC2086
		canctl busload $opts -n 2 -b 500000 vcan1 >"$T/got" 2>&1 ||
			err "canctl busload exited $?: $(cat "$T/got")" || return 1
		sleep 0.5
		kill -INT "$BGPID"
		wait "$BGPID"
		head -c "$(wc -c <"$T/got")" "$T/want" >"$T/want2"
		same "$T/want2" "$T/got" "canctl busload $opts vs canbusload $opts -b" || return 1
		[ "$(grep -c @ "$T/got")" = 2 ] || err "not 2 reports: $(cat "$T/got")" || return 1
	done
}

# The same frames, counted by both for the same seconds: equal sums.
t_busload_sums_match_canbusload() {
	local opts base cpid
	base=$(receivers vcan1)
	for opts in "" "-i" "-e"; do
		# shellcheck disable=SC2086
		spawn "$T/want" canbusload $opts vcan1@500000
		cpid=$BGPID
		# shellcheck disable=SC2086
		spawn "$T/got" "$CANCTL" busload $opts -b 500000 vcan1
		at_least vcan1 $((base + 2)) || return 1
		sleep 1.2
		cangen vcan1 -g 4 -I i -L i -D i -n 150 &&
			cangen vcan1 -g 4 -e -L 8 -D r -n 100 ||
			err "cangen failed" || return 1
		sleep 2.5
		kill -INT "$cpid" "$BGPID"
		wait "$cpid" "$BGPID"
		[ "$(columns "$T/want" | cut -d' ' -f1)" = 250 ] ||
			err "canbusload $opts counted $(columns "$T/want") (frames bits payload)" || return 1
		columns "$T/want" >"$T/sum.want"
		columns "$T/got" >"$T/sum.got"
		same "$T/sum.want" "$T/sum.got" "frames, bits and payload bits, $opts" || return 1
		check_lines "$T/got" 500000 || return 1
		back_to vcan1 "$base" || return 1
	done
}

# busload_known "OPTIONS" BITS: 200 frames of BITS each on can0, whose
# bitrate comes from cand (500 kbit/s).
busload_known() {
	local base
	base=$(receivers can0)
	# shellcheck disable=SC2086 # options are words
	spawn "$T/got" "$CANCTL" busload $1 can0
	at_least can0 $((base + 1)) || return 1
	sleep 1.2
	cangen can0 -g 0 -p 20 -I 123 -L 8 -D 0000000000000000 -n 200 ||
		err "cangen failed" || return 1
	sleep 2.5
	kill -INT "$BGPID"
	wait "$BGPID"
	grep -q '^ can0@500000 ' "$T/got" || err "no can0@500000 line: $(cat "$T/got")" || return 1
	[ "$(columns "$T/got")" = "200 $((200 * $2)) 12800" ] ||
		err "busload $1: got $(columns "$T/got"), want 200 $((200 * $2)) 12800" || return 1
	check_lines "$T/got" 500000 || return 1
	back_to can0 "$base"
}

# 123#0000000000000000 is 111 bits without stuff bits, 135 in the worst
# case and 125 exactly (framelen's unit test has canbusload's figures).
t_busload_known_load_on_a_controller() {
	busload_known -i 111 && busload_known "" 135 && busload_known -e 125
}

# CAN FD with BRS at 500k/2M without stuff bits: each 64-byte frame is
# 29 bits at the bitrate and 543 at the data bitrate.
t_busload_fd_brs() {
	local base
	base=$(receivers vcan0)
	spawn "$T/got" "$CANCTL" busload -i -b 500000,2000000 vcan0
	at_least vcan0 $((base + 1)) || return 1
	sleep 1.2
	cangen vcan0 -g 0 -p 20 -f -b -I 000 -L 64 -n 1000 || err "cangen failed" || return 1
	sleep 2.5
	kill -INT "$BGPID"
	wait "$BGPID"
	grep -q '^ vcan0@500000,2000000 ' "$T/got" || err "no rate in: $(cat "$T/got")" || return 1
	[ "$(columns "$T/got")" = "1000 572000 512000" ] ||
		err "got $(columns "$T/got"), want 1000 572000 512000" || return 1
	awk '$1 ~ /@/ {
		want = int($2 * 29 * 100 / 500000) + int($2 * 543 * 100 / 2000000)
		sub(/%/, "", $5)
		if ($5 != want) { print "bad line: " $0; bad = 1 }
	} END { exit bad }' "$T/got" >&2
}

t_busload_header_and_redraw() {
	canctl busload -t -r -n 1 -e -b 250000 vcan1 >"$T/got" 2>&1 ||
		err "canctl busload -t -r exited $?: $(cat "$T/got")" || return 1
	head -c 7 "$T/got" | cmp -s - <(printf '\33[2J\33[H') ||
		err "no clear screen and home: $(od -c "$T/got" | head -2)" || return 1
	grep -Eq '^canctl busload [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} \(exact bitstuffing\)$' \
		<(tr -d '\033' <"$T/got" | sed 's/^\[2J\[H//') ||
		err "no time line: $(cat -A "$T/got")"
}

t_busload_errors() {
	exit_is 2 'no bitrate of its own' busload -n 1 vcan0 || return 1
	exit_is 2 'bad bitrate' busload -b 0 vcan0 || return 1
	exit_is 2 'bad bitrate' busload vcan0@fast || return 1
	exit_is 2 'bad bitrate' busload -b 500000,100 vcan0 || return 1
	exit_is 2 'bad bitrate' busload vcan0@2000000 || return 1
	exit_is 2 'needs interfaces' busload -b 500000 any || return 1
	exit_is 2 'needs an interface' busload -b 500000 || return 1
	exit_is 2 'bad count' busload -n 0 -b 500000 vcan0 || return 1
	exit_is 1 'nosuchcan9|no such' busload -b 500000 nosuchcan9
}

cli_busload_tests() {
	run t_busload_idle_matches_canbusload
	run t_busload_sums_match_canbusload
	run t_busload_known_load_on_a_controller
	run t_busload_fd_brs
	run t_busload_header_and_redraw
	run t_busload_errors
}
