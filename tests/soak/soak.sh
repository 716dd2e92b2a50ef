#!/bin/bash
# One cand under load and churn for SOAK_MINUTES (default 10; SOAK_SECONDS
# overrides it: make check runs 60), inside the test VM:
#
#   make soak                          (tests/vm/run-soak.sh BUILDDIR MINUTES)
#   tests/soak/soak.sh BUILDDIR        (in the VM, as root, from the repo)
#
# At the same time: a raw sender of numbered frames at 8000/s on vcan0 and
# 8 steady clients that check every number (soak_can pace, check); two
# churners, clients that connect, open, set filters, start and stop tasks
# and monitors, send, read the state and then close, vanish mid-request or
# are killed (soak_can churn); a garbage client every 2 s (soak_can
# garbage); socketcand's TCP clients, five a second, that open, add BCM
# jobs, subscribe, send in raw mode, vanish mid-element, reset or send
# garbage (soak_can sc); vcan2 deleted and created again every 30 s with
# a canctl dump bound to it. Every 30 s a row of the table: cand's RSS
# and open descriptors (/proc), its clients (connected less disconnected
# in its log: libcand's, not socketcand's) and its BCM sockets
# (/proc/net/can-bcm, named by socket inode).
#
# It passes when the steady clients got every frame the sender sent, once
# and in order; when, the churners gone, the daemon's descriptors are back
# to what they were before them and its RSS is no more than 1 MiB above the
# row after the first minute (the middle row in a shorter run); and when
# the daemon never restarted. The last line is "soak: N passed, N failed".
set -u

BUILD=$(cd "${1:?usage: $0 BUILDDIR}" && pwd) || exit 2
REPO=$(cd "$(dirname "$0")/../.." && pwd)
SECS=${SOAK_SECONDS:-$((${SOAK_MINUTES:-10} * 60))}
SAMPLE=${SOAK_SAMPLE_SECONDS:-30}
RATE=8000
STEADY=8
SOCK=/run/cand-soak/cand.sock
T=$(mktemp -d /tmp/cand-soak.XXXXXX)
# The daemon, user cand, reads its cand.conf here.
chmod 755 "$T"
LOG=$T/cand.log
SC_PORT=29537
SOAK=$BUILD/soak_can
bg=()
# shellcheck disable=SC2154 # p is the loop's
trap 'for p in "${bg[@]}"; do kill "$p" 2>/dev/null; done' EXIT

CHECKS_NAME=soak
# shellcheck source=tests/integ/checks.sh
. "$REPO/tests/integ/checks.sh"
finish() {
	cp -f "$T"/*.out "$T"/*.err "$LOG" "$BUILD/" 2>/dev/null
	if [ "$failed" -gt 0 ]; then
		echo "---- daemon log, last 40 lines ----"
		tail -n 40 "$LOG"
	fi
	checks_summary
}

alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"; }
# Descriptors close while find reads them: it says so, and is right.
fds() { find "/proc/$pid/fd" -mindepth 1 2>/dev/null | wc -l; }
# One read of the log: two would count the churn between them.
# libcand's clients only: socketcand's say "client N (peer ...)" when they
# come, but "client N disconnected" alike when they go.
clients() {
	awk '/client [0-9]+ connected: pid / { c[$2] = 1; n++ }
	/client [0-9]+ disconnected$/ && ($2 in c) { delete c[$2]; n-- }
	END { print n + 0 }' "$LOG"
}
bcm_sockets() {
	local n=0 ino
	for ino in $(find "/proc/$pid/fd" -mindepth 1 -lname 'socket:*' -printf '%l\n' 2>/dev/null | tr -dc '0-9\n'); do
		[ -e "/proc/net/can-bcm/$ino" ] && n=$((n + 1))
	done
	echo "$n"
}
# row LABEL: one line of the table, kept in $T/rows for the checks.
row() {
	local r
	r="$(rss) $(fds) $(clients) $(bcm_sockets)"
	echo "$1 $r" >>"$T/rows"
	# shellcheck disable=SC2086 # the four numbers, one a column
	printf '| %8s | %9s | %6s | %7s | %11s |\n' "$1" $r
}
col() { awk -v l="$1" -v c="$2" '$1 == l { print $c }' "$T/rows"; }

# A vcan hands every frame to its CPU's backlog, 1000 deep: a sender
# catching up after the VM stalled overflows it before any socket sees
# the frames, cand's or the control's.
sysctl -qw net.core.netdev_max_backlog=100000
for d in vcan0 vcan2; do
	ip link show "$d" >/dev/null 2>&1 || ip link add dev "$d" type vcan
	ip link set "$d" up
done
[ -x "$SOAK" ] || { fail "$SOAK is missing (make all)"; finish; }

# ---- the daemon, the steady clients, the bound client ----
# open.conf, and socketcand's front-end for 127.0.0.1.
{
	cat "$REPO/tests/integ/conf/open.conf"
	printf '[rule soak-sc]\ninterfaces = *\npeers = 127.0.0.1\nrights = read send periodic monitor\n'
	printf '[socketcand]\nlisten = 127.0.0.1:%s\ninterfaces = vcan0\n' "$SC_PORT"
} >"$T/cand.conf"
chmod 644 "$T/cand.conf"
"$REPO/tests/integ/start-daemon.sh" "$BUILD" "$SOCK" "$T/cand.conf" 2>"$LOG" &
pid=$!
bg+=("$pid")
up() { "$BUILD/canctl" -s "$SOCK" list >/dev/null 2>&1; }
wait_for 30 up || { fail "cand did not come up on $SOCK"; finish; }
checkers=()
for i in $(seq "$STEADY"); do
	"$SOAK" check "$SOCK" vcan0 0x100 >"$T/check$i.out" 2>"$T/check$i.err" &
	checkers+=($!)
done
# The control: the same stream read straight from a CAN_RAW socket.
"$SOAK" check - vcan0 0x100 >"$T/control.out" 2>"$T/control.err" &
checkers+=($!)
ready() { [ "$(cat "$T"/check*.out "$T/control.out" | grep -c '^ready$')" = $((STEADY + 1)) ]; }
wait_for 30 ready || { fail "the steady clients did not open"; finish; }
"$BUILD/canctl" -s "$SOCK" dump vcan2 >"$T/vcan2.out" 2>"$T/vcan2.err" &
dumper=$!
bg+=("${checkers[@]}" "$dumper")
connected() { [ "$(clients)" -ge $((STEADY + 1)) ]; }
wait_for 10 connected
echo "soak: ${SECS} s, a row every ${SAMPLE} s; pid $pid"
echo "|     time | RSS (KiB) |    fds | clients | BCM sockets |"
echo "| -------- | --------: | -----: | ------: | ----------: |"
row start

# ---- the load ----
"$SOAK" pace vcan0 0x100 "$RATE" "$SECS" >"$T/pace.out" 2>"$T/pace.err" &
pacer=$!
churners=()
for seed in 1 2; do
	"$SOAK" churn "$SOCK" vcan0 "$seed" >"$T/churn$seed.out" 2>"$T/churn$seed.err" &
	churners+=($!)
done
"$SOAK" garbage "$SOCK" 7 >"$T/garbage.out" 2>"$T/garbage.err" &
garbage=$!
"$SOAK" sc 127.0.0.1 "$SC_PORT" vcan0 3 >"$T/sc.out" 2>"$T/sc.err" &
sc=$!
bg+=("$pacer" "${churners[@]}" "$garbage" "$sc")
# vcan2 away and back every 30 s, a frame for the bound client each time.
(
	for _ in $(seq $((SECS / 30))); do
		sleep 28
		ip link del vcan2
		sleep 2
		ip link add dev vcan2 type vcan && ip link set vcan2 up
		sleep 2
		cansend vcan2 321#C0FFEE
	done
) &
flapper=$!
bg+=("$flapper")

# The kernel's own drops before any socket: a VM short of CPU.
backlog_drops() {
	local n=0 _ d
	while read -r _ d _; do n=$((n + 0x$d)); done </proc/net/softnet_stat
	echo "$n"
}
backlog0=$(backlog_drops)
start=$(date +%s)
restarted=0
next=$SAMPLE
while :; do
	now=$(($(date +%s) - start))
	alive "$pid" || { restarted=1; break; }
	if [ "$now" -ge "$next" ]; then
		row "${next}s"
		next=$((next + SAMPLE))
	fi
	[ "$now" -ge "$SECS" ] && ! alive "$pacer" && break
	sleep 1
done

# ---- the churn ends; what it left behind ----
kill -TERM "${churners[@]}" "$garbage" "$sc" 2>/dev/null
wait "${churners[@]}" "$garbage" "$sc" "$pacer"
wait "$flapper"
back() { [ "$(fds)" -le "$(col start 3)" ]; }
[ "$restarted" = 0 ] && wait_for 20 back
[ "$restarted" = 0 ] && row end
kill -TERM "${checkers[@]}" "$dumper" 2>/dev/null
wait "${checkers[@]}" "$dumper"

# ---- the verdict ----
# Not a check: what a plain reader and the kernel made of the same load.
echo "soak: the control, a CAN_RAW reader with cand's buffer: $(grep '^check:' "$T/control.out")"
echo "soak: frames the kernel dropped before any socket (softnet backlog): $(($(backlog_drops) - backlog0))"
ran() { [ "$restarted" = 0 ] && alive "$pid"; }
check "the daemon ran throughout (pid $pid, never restarted)" ran
read -r _ _ sent _ last _ <<<"$(cat "$T/pace.out")"
check "the sender kept $RATE frames/s ($(cat "$T/pace.out" "$T/pace.err" | tr '\n' ' '))" \
	[ "${sent:-0}" -ge $((RATE * SECS * 99 / 100)) ]
for i in $(seq "$STEADY"); do
	line=$(grep '^check:' "$T/check$i.out")
	want="check: received $sent first 0 last $last lost 0 dup 0 order 0 drops 0 reconnected 0 gap 0 (slow reader 0)"
	check "steady client $i got every frame once, in order ($line $(head -n 3 "$T/check$i.err" | tr '\n' ' '))" \
		[ "$line" = "$want" ]
done
for seed in 1 2; do
	check "churner $seed: $(cat "$T/churn$seed.out") $(head -c 300 "$T/churn$seed.err")" \
		grep -Eq '^churn: clients [1-9][0-9]* .* failed 0$' "$T/churn$seed.out"
done
check "$(cat "$T/garbage.out")" grep -Eq '^garbage: clients [1-9]' "$T/garbage.out"
check "socketcand's $(cat "$T/sc.out") $(head -c 300 "$T/sc.err")" \
	grep -Eq '^sc: clients [1-9][0-9]* .* failed 0$' "$T/sc.out"
for port in $(sed -n 's/^soak_can sc: port \([0-9]*\):.*/\1/p' "$T/sc.err"); do
	echo "---- what the daemon logged of port $port ----"
	grep -E "(port $port|:$port)\b" "$LOG" | head -n 20
done
flaps=$((SECS / 30))
check "the client bound to vcan2 saw it go $flaps times and came back ($(grep -c 'disappeared' "$T/vcan2.err") notes, $(grep -c 321 "$T/vcan2.out") frames)" \
	[ "$(grep -c 321 "$T/vcan2.out")" = "$flaps" ]
if [ "$restarted" = 0 ]; then
	check "descriptors back to the start: $(col start 3) then $(col end 3)" \
		[ "$(col end 3)" -le "$(col start 3)" ]
	check "BCM sockets back to the start: $(col start 5) then $(col end 5)" \
		[ "$(col end 5)" -le "$(col start 5)" ]
	ref=60s
	[ "$SECS" -le 60 ] && ref=$(((SECS / SAMPLE / 2) * SAMPLE))s
	[ "$ref" = 0s ] && ref=start
	check "RSS within 1 MiB of the $ref row: $(col "$ref" 2) then $(col end 2) KiB" \
		[ "$(col end 2)" -le $(($(col "$ref" 2) + 1024)) ]
	kill -TERM "$pid"
	wait "$pid"
	check "the daemon exited 0 on SIGTERM" [ $? = 0 ]
fi
finish
