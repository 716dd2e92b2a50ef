# shellcheck shell=bash
# [isolate] under the real systemd, sourced by systemd.sh after its own
# checks (the units installed, cand.service stopped, cand.socket up): the
# units move can0, can1 and the vcans into cand's namespace, where nothing
# on the host reaches them, neither candump nor a raw CAN_RAW bind, as an
# ordinary user or as root, while canctl through cand works fully: frames
# across the emulated bus, configuration, a vcan hot-plugged on the host
# (moved in by the udev rule; the window is measured), the hand-back on a
# clean stop with the configuration cand set, and a crash that leaves them
# where they are.

iso_conf() {
	cat >/etc/cand.conf <<CONF
[rule can-group]
interfaces = *
groups = can
rights = read send periodic monitor

[rule socketcand-local]
interfaces = can0
peers = 127.0.0.1
rights = read send

[socketcand]
interfaces = can0

[isolate]
interfaces = can0 can1 vcan*
CONF
}
on_host() { ip link show dev "$1" >/dev/null 2>&1; }
in_ns() { ip -n cand link show dev "$1" >/dev/null 2>&1; }
ns_up() { ip -n cand -o link show dev "$1" 2>/dev/null | grep -q '[<,]UP[,>]'; }
host_up() { ip -o link show dev "$1" 2>/dev/null | grep -q '[<,]UP[,>]'; }
ns_receivers() {
	ip netns exec cand sh -c 'cat /proc/net/can/rcvlist_all /proc/net/can/rcvlist_fil \
		/proc/net/can/rcvlist_inv /proc/net/can/rcvlist_sff /proc/net/can/rcvlist_eff \
		/proc/net/can/rcvlist_err' | awk -v d="$1" '$1 == d' | wc -l
}
ns_more_receivers() { [ "$(ns_receivers "$1")" -gt "$2" ]; }
# No such device, for WHO: candump and a raw CAN_RAW bind on the host.
unreachable_as() {
	local who=$1 iface=$2 out
	out=$(as "$who" timeout 5 candump -n 1 "$iface" 2>&1)
	[ $? != 0 ] && [[ $out == *"No such device"* ]] || {
		echo "candump $iface as $who: $out"
		return 1
	}
	out=$(as "$who" /usr/bin/python3 -c "import socket
s = socket.socket(socket.AF_CAN, socket.SOCK_RAW, socket.CAN_RAW)
s.bind(('$iface',))" 2>&1)
	[[ $out == *"No such device"* ]] || {
		echo "a raw bind on $iface as $who: $out"
		return 1
	}
}

iso_conf
check "cand -n reads [isolate]" sh -c "$P/sbin/cand -n -c /etc/cand.conf | grep -q 'OK, 2 rules'"
check "systemctl restart cand-netns makes cand's own namespace" systemctl restart cand-netns.service
# systemd binds it in its own namespace, the host's: cand only accepts.
check "cand-socketcand.socket starts, on the host" systemctl start cand-socketcand.socket
# Moving four interfaces takes a while in the emulated VM: no client waits.
check "systemctl start cand.service moves them in" systemctl start cand.service
check "clients get through" list_as candtest
for d in can0 can1 vcan0 vcan1; do
	check "$d is gone from the host" sh -c "! ip link show dev $d >/dev/null 2>&1"
	check "$d is in cand's namespace, up" ns_up "$d"
done
check "the bitrate moved with can0 ($(ip -n cand -details link show can0 | grep -o 'bitrate [0-9]*' | head -n 1))" \
	sh -c "ip -n cand -details link show can0 | grep -q 'bitrate 500000'"
for who in candtest root; do
	check "candump and a raw bind on can0 fail for $who on the host (no such device)" \
		unreachable_as "$who" can0
done
lists_all() { [ "$(as candtest timeout 30 "$CANCTL" list | grep -cE '^(can0|can1|vcan0|vcan1) ')" = 4 ]; }
check "canctl list through cand shows them" lists_all
before=$(ns_receivers can1)
as candtest timeout 30 "$CANCTL" dump -n 1 -T 20000 can1 >"$T/iso-can1" 2>&1 &
dumper=$!
wait_for 20 ns_more_receivers can1 "$before"
check "canctl send on can0" as candtest timeout 30 "$CANCTL" send can0 2A1#CAFE
wait "$dumper"
check "canctl dump on can1 gets it across the emulated bus ($(cat "$T/iso-can1"))" grep -q '2A1' "$T/iso-can1"
before=$(ns_receivers can1)
as candtest timeout 30 "$CANCTL" dump -n 1 -T 20000 can1 >"$T/iso-sc" 2>&1 &
dumper=$!
wait_for 20 ns_more_receivers can1 "$before"
sc_talk 127.0.0.1 "< open can0 >" "< rawmode >" "< send 2B2 1 b2 >< echo >" >"$T/sc-iso" 2>&1
check "a socketcand peer on the host's 127.0.0.1 gets in ($(tr '\n' ' ' <"$T/sc-iso"))" \
	sh -c "head -n 3 $T/sc-iso | tr '\n' ' ' | grep -q '^< hi > < ok > < ok > '"
wait "$dumper"
check "and its frame crosses the emulated bus to can1 ($(cat "$T/iso-sc"))" grep -q '2B2' "$T/iso-sc"
check "canctl set can0 bitrate 250000 through cand" timeout 30 "$CANCTL" set can0 bitrate 250000
check "canctl state can0 says so" sh -c "timeout 30 $CANCTL state can0 | grep -q 'bitrate 250000'"

# ---- hot-plug: created on the host, moved in by the udev rule ----
# hotplug NAME: creates NAME on the host, binds a raw socket on it at once
# as a program racing cand would, and prints the ms from before "ip link
# add" to the interface gone from the host (sysfs, polled every ms), then
# what became of the socket: "bound-cut" (it lost the device: ENODEV),
# "too-late" (gone before the bind) or what went wrong.
hotplug() {
	/usr/bin/python3 - "$1" <<'PY'
import errno, os, socket, subprocess, sys, time
name = sys.argv[1]
t0 = time.monotonic()
subprocess.run(["ip", "link", "add", name, "type", "vcan"], check=True)
s = socket.socket(socket.AF_CAN, socket.SOCK_RAW, socket.CAN_RAW)
try:
    s.bind((name,))
    fate = "bound"
except OSError as e:
    fate = "too-late" if e.errno == errno.ENODEV else "bind: " + str(e)
while os.path.exists("/sys/class/net/" + name) and time.monotonic() - t0 < 20:
    time.sleep(0.001)
ms = (time.monotonic() - t0) * 1000
if fate == "bound":
    s.settimeout(2)
    try:
        s.recv(72)
        fate = "bound-still-receives"
    except OSError as e:
        fate = "bound-cut" if e.errno == errno.ENODEV else "bound: " + str(e)
print("%.0f %s" % (ms, fate))
PY
}
windows=()
for i in 1 2 3 4 5; do
	read -r ms fate <<<"$(hotplug vcan9)"
	check "hot-plug $i: a vcan9 created on the host is moved in within ${ms:-?} ms" \
		sh -c "! ip link show dev vcan9 >/dev/null 2>&1 && ip -n cand link show dev vcan9 >/dev/null"
	check "hot-plug $i: a raw socket bound on it at once is cut off by the move ($fate)" \
		test "$fate" = bound-cut -o "$fate" = too-late
	windows+=("${ms:-99999}")
	[ $i = 5 ] || ip -n cand link del vcan9
done
check "cand-netns-add@vcan9.service did the move" \
	test "$(prop cand-netns-add@vcan9.service Result)" = success
read -r wmin wmed wmax <<<"$(printf '%s\n' "${windows[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[1], v[3], v[5] }')"
moves=$(journalctl --no-pager -o cat -u cand-netns-add@vcan9.service -g 'is in namespace' |
	sed -n 's/.*(\([0-9]*\) ms)$/\1/p' | xargs)
echo "systemd: hot-plug window (ip link add -> gone from the host), 5 runs: min $wmin ms, median $wmed ms, max $wmax ms (${windows[*]}); of which cand-netns add's move: ${moves:-?} ms"
check "canctl set vcan9 up through cand" timeout 30 "$CANCTL" set vcan9 up
before=$(ns_receivers vcan9)
as candtest timeout 30 "$CANCTL" dump -n 1 -T 20000 vcan9 >"$T/iso-vcan9" 2>&1 &
dumper=$!
wait_for 20 ns_more_receivers vcan9 "$before"
check "canctl send vcan9" as candtest timeout 30 "$CANCTL" send vcan9 019#99
wait "$dumper"
check "and canctl dump vcan9 gets it ($(cat "$T/iso-vcan9"))" grep -q '019' "$T/iso-vcan9"

# ---- a crash: the interfaces stay; the next start finds them ----
pid=$(prop cand.service MainPID)
kill -KILL "$pid"
restarted() {
	local now
	now=$(prop cand.service MainPID)
	[ "$now" != 0 ] && [ "$now" != "$pid" ] && is_active cand.service
}
check "a killed cand is restarted" wait_for 90 restarted
check "the interfaces stayed in its namespace" sh -c "in_ns() { ip -n cand link show dev \$1 >/dev/null 2>&1; }; in_ns can0 && in_ns vcan9 && ! ip link show dev can0 >/dev/null 2>&1"
check "the journal says why" in_journal "stay in namespace cand"
check "clients get through again" list_as candtest

# ---- a clean stop hands them back, with what cand configured ----
check "systemctl stop cand.service" systemctl stop cand.service
for d in can0 can1 vcan0 vcan1 vcan9; do
	check "$d is back on the host" on_host "$d"
done
check "can0 is up again, at the bitrate set through cand ($(ip -details link show can0 | grep -o 'bitrate [0-9]*' | head -n 1))" \
	sh -c "ip -details link show can0 | grep -q 'bitrate 250000' && ip -o link show can0 | grep -q '[<,]UP[,>]'"
check "vcan0 is up, mtu 72 (FD) as before" sh -c "ip -o link show vcan0 | grep -q 'mtu 72' && ip -o link show vcan0 | grep -q '[<,]UP[,>]'"
check "candump reaches can0 on the host again" sh -c "timeout 2 candump -n 1 can0; [ \$? = 124 ]"

# ---- back to the shipped file: the namespace is the host's again ----
cp "$REPO/etc/cand.conf" /etc/cand.conf
check "systemctl restart cand-netns without [isolate]" systemctl restart cand-netns.service
check "/run/netns/cand is the host's namespace" \
	test "$(stat -L -c %i /run/netns/cand)" = "$(stat -L -c %i /proc/1/ns/net)"
systemctl stop cand-socketcand.socket
ip link del vcan9
ip link set can0 down && ip link set can0 type can bitrate 500000 && ip link set can0 up
check "clients get through after all that" list_as candtest
