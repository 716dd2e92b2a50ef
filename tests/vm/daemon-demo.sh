#!/bin/sh
# Guest side of tests/vm/run-daemon.sh (make run): starts the daemon, shows
# canctl at work on vcan0, then, when run interactively, leaves you a shell
# next to the running daemon. usage: daemon-demo.sh BUILDDIR
set -u

B=$1
SOCK=/run/cand.sock
export CAND_SOCKET=$SOCK
say() { printf '\n=== %s\n' "$*"; }

# The shipped rules: root and the members of group can (candtest) may use it.
say "starting the daemon in the background: $B/cand -f -s $SOCK -c etc/cand.conf"
# shellcheck disable=SC2086 # the wrapper is a command line (e.g. valgrind ...)
${CAND_DAEMON_WRAPPER:-} "$B/cand" -f -s "$SOCK" -c etc/cand.conf &
daemon=$!
i=0
while [ ! -S "$SOCK" ]; do
	if ! kill -0 "$daemon" 2>/dev/null; then
		wait "$daemon"
		echo "run-daemon: the daemon exited (status $?) before creating $SOCK" >&2
		exit 1
	fi
	i=$((i + 1))
	if [ $i -gt 200 ]; then
		echo "run-daemon: the daemon did not create $SOCK within 20 s" >&2
		kill "$daemon"
		exit 1
	fi
	sleep 0.1
done

say "canctl list"
"$B/canctl" list

say "canctl dump -n 3 vcan0   (in the background: prints the next 3 frames)"
"$B/canctl" dump -n 3 vcan0 &
dump=$!
sleep 1 # let it subscribe before we send

say "canctl send vcan0 123#DEADBEEF 1F334455#R 123##1112233"
"$B/canctl" send vcan0 123#DEADBEEF 1F334455#R 123##1112233

# The dump ends by itself after 3 frames; do not hang if it does not.
(sleep 10 && kill "$dump" 2>/dev/null) &
watchdog=$!
wait "$dump"
kill "$watchdog" 2>/dev/null

if [ "${CAND_VM_INTERACTIVE:-0}" = 1 ]; then
	say "shell in the VM: the daemon runs (pid $daemon) on $SOCK, canctl and cand are on PATH.
    Interfaces: vcan0 (CAN FD), vcan1, can0+can1 (one emulated bus, 500 kbit/s).
    Users: candtest (group can), candtest2. Try: canctl dump any &  cansend vcan0 123#AA
    'exit' powers the VM off; Ctrl-A X kills it."
	PATH=$B:$PATH
	export PATH
	if command -v bash >/dev/null; then bash -i; else sh -i; fi
fi

say "stopping the daemon"
kill "$daemon" 2>/dev/null
wait "$daemon"
echo "daemon exit status: $?"
exit 0
