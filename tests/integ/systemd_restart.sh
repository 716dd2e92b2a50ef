#!/bin/bash
# Clients across `systemctl restart cand` under the real systemd (PID 1 of
# the VM), run after systemd.sh, which installs the units, in the same VM:
#
#   tests/vm/vm.sh --systemd -- 'bash tests/integ/systemd.sh B; bash tests/integ/systemd_restart.sh B'
#
# As candtest, through the socket: canctl dump, periodic (a task), monitor
# and events, and a libcand client sending numbered frames (soak_can pace
# -c); on the bus, a raw sender of numbered frames and candump, which
# sees everything on its own. Then systemctl restart cand: every client
# carries on and says so on stderr, the task's frames stop for the gap
# and come back (candump), the dump misses only the raw frames of the
# gap, one unbroken run; the gaps are printed. Last, with the socket
# stopped too, a reconnecting client gives up in its time. The last line
# is "systemd-restart: N passed, N failed".
set -u

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:?usage: $0 BUILDDIR}" && pwd) || exit 2
CANCTL=/run/cand-prefix/bin/canctl
SOAK=$BUILD/soak_can
SOCK=/run/cand.sock
T=$(mktemp -d /tmp/cand-restart.XXXXXX)
chmod 755 "$T"
bg=()
trap 'for p in "${bg[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT

CHECKS_NAME=systemd-restart
# shellcheck source=tests/integ/checks.sh
. "$REPO/tests/integ/checks.sh"
finish() {
	if [ "$failed" -gt 0 ]; then
		for f in "$T"/*.err; do echo "---- $f ----" && tail -n 5 "$f"; done
		journalctl --no-pager -o short-monotonic -u cand.service | tail -n 40
	fi
	checks_summary
}
prop() { systemctl show -P "$2" "$1"; }
receivers() {
	cat /proc/net/can/rcvlist_{all,fil,inv,sff,eff,err} | awk -v d="$1" '$1 == d' | wc -l
}
more_receivers() { [ "$(receivers "$1")" -gt "$2" ]; }
clients() { prop cand.service StatusText | sed -n 's/^\([0-9]*\) clients\{0,1\},.*/\1/p'; }
at_least_clients() { [ "$(clients)" -ge "$1" ] 2>/dev/null; }
# bg_as OUT CMD...: CMD as candtest, stdout to $T/OUT, stderr to $T/OUT.err;
# setpriv execs it, so that $! is CMD and a signal to it reaches CMD (as
# is a function, so a subshell of its own would catch it).
bg_as() {
	local out=$1
	shift
	setpriv --reuid=candtest --regid=candtest --init-groups -- "$@" \
		>"$T/$out" 2>"$T/$out.err" &
	bg+=($!)
}
said() { grep -q "$2" "$T/$1.err"; }

[ "$(cat /proc/1/comm)" = systemd ] || { fail "PID 1 is not systemd (vm.sh --systemd)"; finish; }
if ! [ -x "$CANCTL" ] || ! systemctl cat cand.socket >/dev/null 2>&1; then
	fail "no installed cand (run systemd.sh first, in the same VM)"
	finish
fi
[ -x "$SOAK" ] || { fail "$SOAK is missing (make all)"; finish; }

systemctl start cand.socket
check "the service is up" as candtest "$CANCTL" list >/dev/null
before=$(receivers vcan0)
candump -L vcan0 >"$T/bus" 2>&1 &
bg+=($!)
wait_for 20 more_receivers vcan0 "$before"
bg_as dump "$CANCTL" dump -L vcan0,7A0:7F0
bg_as periodic "$CANCTL" periodic -p 20ms vcan0 7A2#01
bg_as monitor "$CANCTL" monitor vcan0 7A3
bg_as events "$CANCTL" events vcan1
bg_as pace "$SOAK" pace -c "$SOCK" vcan0 0x7A1 100 0
clients_bg=("${bg[@]:1}")
check "five clients are connected" wait_for 30 at_least_clients 5
"$SOAK" pace vcan0 0x7A4 200 0 >"$T/raw" 2>"$T/raw.err" &
raw=$!
bg+=("$raw")
sleep 1
cansend vcan0 7A3#01
sleep 1

# ---- the restart ----
pid=$(prop cand.service MainPID)
t0=$(date +%s.%N)
check "systemctl restart cand" systemctl restart cand.service
check "a new daemon runs (pid $pid, now $(prop cand.service MainPID))" \
	test "$(prop cand.service MainPID)" != "$pid"
for c in dump periodic monitor events; do
	check "canctl $c carried on and said so: $(head -c 200 "$T/$c.err")" \
		wait_for 30 said "$c" reconnected
done
sleep 1
cansend vcan0 7A3#02
ip link set vcan1 down && ip link set vcan1 up
sleep 2
kill -TERM "$raw"
wait "$raw"
sleep 0.5
kill -INT "${clients_bg[@]}" 2>/dev/null
rcs=""
for p in "${clients_bg[@]}"; do
	wait "$p"
	rcs+=" $?"
done
check "the clients exit 0 on Ctrl-C, after the restart (${rcs# })" \
	test "$(echo "$rcs" | tr -d ' 0')" = ""
check "the sending client came back ($(cat "$T/pace"))" \
	grep -Eq '^pace: sent [1-9][0-9]* .* reconnected [1-9]' "$T/pace"
check "the monitor saw a change before and after ($(tr '\n' ' ' <"$T/monitor"))" \
	test "$(grep -c ' changed$' "$T/monitor")" = 2
check "canctl events saw vcan1 go down after it ($(tr '\n' ' ' <"$T/events"))" \
	grep -q 'vcan1 link down' "$T/events"

# What candump saw against what the dump printed: ids, numbers, times.
/usr/bin/python3 - "$T/bus" "$T/dump" "$t0" >"$T/verdict" <<'PY'
import re, sys
line = re.compile(r'^\((\d+\.\d+)\) vcan0 (7A[0-9A-F])#([0-9A-F]*)')
def frames(path):
    out = []
    for l in open(path):
        m = line.match(l)
        if m:
            out.append((float(m.group(1)), m.group(2), m.group(3)))
    return out
bus, dump, t0 = frames(sys.argv[1]), frames(sys.argv[2]), float(sys.argv[3])
task = [t for t, i, _ in bus if i == '7A2']
gaps = [(b - a, a) for a, b in zip(task, task[1:])]
gap, at = max(gaps) if gaps else (0, 0)
print('task %d %.0f %d' % (len(task), gap * 1000,
      sum(1 for t in task if t > at + gap - 0.001)))
seq = lambda d: int(d[:8], 16)
raw_bus = [seq(d) for _, i, d in bus if i == '7A4']
raw_dump = [seq(d) for _, i, d in dump if i == '7A4']
# Between the first and the last the dump printed: its own lifetime.
lo, hi = (min(raw_dump), max(raw_dump)) if raw_dump else (0, -1)
missing = sorted(s for s in set(raw_bus) - set(raw_dump) if lo < s < hi)
runs = sum(1 for a, b in zip([None] + missing, missing) if a is None or b != a + 1)
print('dump %d %d %d %d %d' % (len(raw_bus), len(raw_dump), len(missing), runs,
      int(raw_dump == sorted(raw_dump) and set(raw_dump) <= set(raw_bus))))
PY
read -r _ ntask gap after <<<"$(sed -n 1p "$T/verdict")"
read -r _ nbus ndump nmiss runs ordered <<<"$(sed -n 2p "$T/verdict")"
echo "restart: the task's frames stopped for $gap ms (period 20 ms); the dump missed $nmiss of $nbus raw frames (5 ms apart) in $runs run"
check "candump saw the task before and after the restart ($ntask frames, $after after the gap)" \
	test "${after:-0}" -gt 10
check "the task's frames stopped for the gap: $gap ms" test "${gap:-0}" -gt 60
check "the dump printed the raw frames in order, none twice ($ndump of $nbus)" \
	test "${ordered:-0}" = 1
check "the dump missed only the gap's raw frames: $nmiss, in $runs unbroken run" \
	test "${runs:-9}" -le 1 -a "${ndump:-0}" -gt 0

# ---- stopped for good: a reconnecting client gives up ----
before=$(receivers vcan0)
as candtest env CAND_RECONNECT_MS=3000 "$CANCTL" dump vcan0 >"$T/last" 2>&1 &
last=$!
wait_for 20 more_receivers vcan0 "$before"
check "systemctl stop cand.socket cand.service" systemctl stop cand.socket cand.service
t1=$(date +%s)
wait "$last"
rc=$?
check "a reconnecting client gave up in $(($(date +%s) - t1)) s (exit $rc: $(tr '\n' ' ' <"$T/last"))" \
	sh -c "[ $rc = 1 ] && grep -q 'gave up' $T/last && [ $(($(date +%s) - t1)) -le 30 ]"
systemctl start cand.socket
finish
