# shellcheck shell=bash
# canctl sniff in an 80x24 pseudo-terminal (tmux), its screen read back:
# the layout cansniffer draws, changed bytes in colour, quiet ids gone,
# the keys, a screen that never scrolls, plain lines without a terminal,
# sniffset files and bad options. Sourced by tools.sh.

# sniff_start SESSION IFACE ARGS...: canctl sniff in tmux, bound to IFACE.
sniff_start() {
	local name=$1 dev=$2 before _
	shift 2
	before=$(receivers "$dev")
	TERM=xterm tmux new-session -d -s "$name" -x 80 -y 24 -c "$T" \
		"CAND_SOCKET=$SOCK exec $* 2>$T/$name.err"
	for _ in $(seq 200); do
		[ "$(receivers "$dev")" -gt "$before" ] && return 0
		sleep 0.02
	done
	err "$* did not bind to $dev: $(cat "$T/$name.err" 2>/dev/null)"
}

# screen SESSION [-e]: what the terminal shows (-e: with its colours).
screen() {
	tmux capture-pane -p ${2:+"$2"} -t "$1"
}

# wait_screen SESSION REGEX WHAT: until a line of the screen matches.
wait_screen() {
	local _
	for _ in $(seq 100); do
		screen "$1" | grep -Eq -- "$2" && return 0
		sleep 0.05
	done
	err "$3: no line like '$2' on the screen:" "$(screen "$1")"
}

# wait_gone SESSION REGEX WHAT: until no line of the screen matches.
wait_gone() {
	local _
	for _ in $(seq 100); do
		screen "$1" | grep -Eq -- "$2" || return 0
		sleep 0.05
	done
	err "$3: still '$2' on the screen:" "$(screen "$1")"
}

# wait_marked SESSION REGEX WHAT: until the line matching has colour.
wait_marked() {
	local _
	for _ in $(seq 100); do
		screen "$1" -e | grep -E -- "$2" | grep -q $'\e\\[[0-9;]*31m' && return 0
		sleep 0.05
	done
	err "$3: not in colour:" "$(screen "$1" -e | cat -A)"
}

# keys SESSION LINE: types a command and Enter.
keys() {
	tmux send-keys -t "$1" -- "$2" Enter
}

# sniff_stop SESSION: q, and the session ends with canctl.
sniff_stop() {
	local _
	keys "$1" q
	for _ in $(seq 100); do
		tmux has-session -t "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	tmux kill-session -t "$1"
	err "canctl sniff did not quit on q"
}

# traffic_start: until traffic_stop (or the test's end), 123's bit 0
# toggling every 50 ms, 7FF and 12345678 fixed, so that nothing goes
# quiet however long a loaded host takes to read the screens.
traffic_start() {
	"$CANCTL" periodic -p 50ms vcan0 123#01000000 123#00000000 >/dev/null 2>&1 &
	traffic_pids=($!)
	cangen vcan0 -g 30 -I 7FF -L 8 -D 4142434445464748 >/dev/null 2>&1 &
	traffic_pids+=($!)
	cangen vcan0 -g 100 -e -I 12345678 -L 2 -D AABB >/dev/null 2>&1 &
	traffic_pids+=($!)
	bg_pids+=("${traffic_pids[@]}")
}

traffic_stop() {
	kill "${traffic_pids[@]}" 2>/dev/null
	wait "${traffic_pids[@]}" 2>/dev/null
}

# traffic SECS: the same for SECS seconds.
traffic() {
	traffic_start
	sleep "$1"
	traffic_stop
}

t_sniff_screen_like_cansniffer() {
	local hdr='^[0-9]{2}\|ms \| -- ID -- \| data \.\.\.     < vcan0 # l=20 h=100 t=0 slots=3 >$'
	# -t 0: cansniffer drops an id whose data did not change for the
	# timeout, frames or not, and 7FF's never changes.
	sniff_start s1 vcan0 "$CANCTL" sniff -t 0 vcan0 || return 1
	sniff_start s2 vcan0 cansniffer -c -t 0 vcan0 || return 1
	traffic_start
	wait_screen s1 '^[0-9]{5} \| ---- 7FF \| 41 42 43 44 45 46 47 48 ABCDEFGH$' "7FF" || return 1
	wait_screen s1 "^[0-9]{5} \\| 12345678 \\| AA BB $(printf '%18s' '')\\.\\.\$" "12345678" || return 1
	wait_screen s1 "^[0-9]{5} \\| ---- 123 \\| 0[01] 00 00 00 $(printf '%12s' '')\\.\\.\\.\\.\$" "123" || return 1
	wait_screen s1 "$hdr" "the header" || return 1
	# The same columns as cansniffer's, whose counter and periods differ.
	wait_screen s2 '---- 7FF \|' "cansniffer's 7FF" || return 1
	screen s1 | sed -n '1s/^..//p; /7FF/s/^.....//p' >"$T/got"
	screen s2 | sed -n '1s/^..//p; /7FF/s/^.....//p' >"$T/want"
	same "$T/want" "$T/got" "the header and the 7FF line, beside cansniffer's" || return 1
	# The incrementing byte of 123 in colour, 7FF's constant bytes not.
	screen s1 -e | grep -- '---- 123' | grep -q $'\e\\[[0-9;]*31m' ||
		err "123's changing byte is not marked:" "$(screen s1 -e | cat -A)" || return 1
	screen s1 -e | grep -- '---- 7FF' | grep -q $'\e\\[[0-9;]*31m' &&
		err "7FF's constant bytes are marked:" "$(screen s1 -e | cat -A)" && return 1
	# 7FF comes every 30 ms: its period says so (loosely, on a busy host).
	screen s1 | awk '/---- 7FF/ { p = $1 + 0; exit !(p >= 25 && p < 1000) }' ||
		err "7FF's period: $(screen s1 | grep -- '---- 7FF')" || return 1
	traffic_stop
	sniff_stop s1 && sniff_stop s2
}

t_sniff_keys() {
	sniff_start k1 vcan0 "$CANCTL" sniff vcan0 || return 1
	traffic_start
	wait_screen k1 '---- 7FF' "7FF" || return 1
	keys k1 n
	wait_gone k1 '---- (7FF|123)' "n (no SFF ids)" || return 1
	wait_screen k1 '^[0-9]{5} \| 12345678 ' "the EFF id after n" || return 1
	keys k1 a
	wait_screen k1 '---- 7FF' "a (all SFF ids)" || return 1
	keys k1 -7FF
	wait_gone k1 '---- 7FF' "-7FF" || return 1
	wait_screen k1 '---- 123' "123 after -7FF" || return 1
	keys k1 +7FF
	wait_screen k1 '---- 7FF' "+7FF" || return 1
	keys k1 b
	wait_screen k1 '---- 7FF \| 0100000101000010' "b (binary)" || return 1
	keys k1 b
	wait_screen k1 '---- 7FF \| 41 42' "b again" || return 1
	# # notches 123's changing bits: no more colour on its line.
	wait_marked k1 '---- 123' "123's changing bit before #" || return 1
	keys k1 '#'
	sleep 0.5
	screen k1 -e | grep -- '---- 123' | grep -q $'\e\\[[0-9;]*31m' &&
		err "123 is still marked after #:" "$(screen k1 -e | cat -A)" && return 1
	keys k1 -7FF
	keys k1 wtest
	sleep 0.5
	traffic_stop
	sniff_stop k1 || return 1
	grep -Evq '^<[0-9A-F]{8}>[01]\.[0-9A-F]{16}$' "$T/sniffset.test" &&
		err "not cansniffer's sniffset format: $(cat "$T/sniffset.test")" && return 1
	grep -q '^<000007FF>0\.0000000000000000$' "$T/sniffset.test" ||
		err "7FF not off in: $(cat "$T/sniffset.test")" || return 1
	grep -Eq '^<00000123>1\.[0-9A-F]{2}[0-9A-F]*$' "$T/sniffset.test" ||
		err "123 not on in: $(cat "$T/sniffset.test")" || return 1
	# Read back: 7FF stays off.
	sniff_start k2 vcan0 "$CANCTL" sniff -r test vcan0 || return 1
	traffic_start
	wait_screen k2 '---- 123' "123 with -r test" || return 1
	screen k2 | grep -q -- '---- 7FF' && err "7FF shown with -r test" && return 1
	traffic_stop
	sniff_stop k2
}

# -t 50: an id quiet for half a second goes; the others stay.
t_sniff_timeout() {
	sniff_start o1 vcan0 "$CANCTL" sniff -t 50 vcan0 || return 1
	# 457 all along, 456 only until it has been seen.
	cangen vcan0 -g 100 -I 457 -L 1 >/dev/null 2>&1 &
	bg_pids+=($!)
	cangen vcan0 -g 100 -I 456 -L 1 >/dev/null 2>&1 &
	bg_pids+=($!)
	wait_screen o1 '^[0-9]{5} \| 456 ' "456" || return 1
	wait_screen o1 '^[0-9]{5} \| 457 ' "457" || return 1
	kill $!
	wait_gone o1 ' 456 ' "456 after half a second" || return 1
	screen o1 | grep -q ' 457 ' || err "457 went too" || return 1
	sniff_stop o1
}

# 40 ids in 24 rows: the header stays on top, 22 lines under it.
t_sniff_never_scrolls() {
	local i
	sniff_start m1 vcan0 "$CANCTL" sniff vcan0 || return 1
	# shellcheck disable=SC2046 # the frames are words
	canctl send vcan0 $(for i in $(seq 1 40); do printf '%03X#%02X ' $((0x500 + i)) "$i"; done) ||
		err "canctl send failed" || return 1
	wait_screen m1 'slots=40 >$' "40 slots" || return 1
	sleep 0.5
	screen m1 | head -1 | grep -Eq '^[0-9]{2}\|ms \| ID  \| data' ||
		err "the header scrolled away:" "$(screen m1)" || return 1
	[ "$(screen m1 | grep -Ec '^[0-9]{5} \| 5[0-9A-F]{2} \|')" = 22 ] ||
		err "not 22 id lines:" "$(screen m1)" || return 1
	screen m1 | awk 'length > 80 { exit 1 }' || err "a line over 80 columns" || return 1
	sniff_stop m1
}

# No terminal: plain lines, no escape sequences.
t_sniff_plain_lines() {
	local before
	before=$(receivers vcan0)
	spawn "$T/plain" "$CANCTL" sniff vcan0
	at_least vcan0 $((before + 1)) || return 1
	traffic 1
	sleep 0.5
	kill -INT "$BGPID"
	wait_exit "$BGPID" 5 || return 1
	grep -q $'\e' "$T/plain" && err "escape sequences in: $(cat -A "$T/plain" | head -5)" && return 1
	head -1 "$T/plain" | grep -Eq '^XX\|ms \| (-- ID --|ID ) \| data \.\.\.' ||
		err "no header: $(head -3 "$T/plain")" || return 1
	grep -Eq '^[0-9]{5} \| ---- 7FF \| 41 42 43 44 45 46 47 48 ABCDEFGH$' "$T/plain" ||
		err "no 7FF line: $(head -5 "$T/plain")"
}

t_sniff_bad_options() {
	exit_is 2 'bad timeout' sniff -t x vcan0 || return 1
	exit_is 2 'bad loop' sniff -l 0 vcan0 || return 1
	exit_is 2 'bad hold' sniff -h 9999999 vcan0 || return 1
	exit_is 2 'one interface' sniff vcan0 vcan1 || return 1
	exit_is 1 'nosuchcan9|no such' sniff nosuchcan9 </dev/null || return 1
	exit_is 1 'sniffset.nosuch' sniff -r nosuch vcan0
}

cli_sniff_tests() {
	run t_sniff_screen_like_cansniffer
	run t_sniff_keys
	run t_sniff_timeout
	run t_sniff_never_scrolls
	run t_sniff_plain_lines
	run t_sniff_bad_options
}
