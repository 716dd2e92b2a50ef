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
check "cand -n reads [isolate]" sh -c "$P/sbin/cand -n -c /etc/cand.conf | grep -q 'OK, 1 rule'"
check "systemctl restart cand-netns makes cand's own namespace" systemctl restart cand-netns.service
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
check "canctl set can0 bitrate 250000 through cand" timeout 30 "$CANCTL" set can0 bitrate 250000
check "canctl state can0 says so" sh -c "timeout 30 $CANCTL state can0 | grep -q 'bitrate 250000'"

# ---- hot-plug: created on the host, moved in by the udev rule ----
t0=$(date +%s%N)
ip link add vcan9 type vcan
while on_host vcan9 && [ $((($(date +%s%N) - t0) / 1000000)) -lt 20000 ]; do sleep 0.01; done
window=$((($(date +%s%N) - t0) / 1000000))
check "a vcan9 created on the host is moved in (window ${window} ms: created -> gone from the host)" \
	sh -c "! ip link show dev vcan9 >/dev/null 2>&1 && ip -n cand link show dev vcan9 >/dev/null"
echo "systemd: hot-plug window: vcan9 left the host ${window} ms after ip link add returned"
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
ip link del vcan9
ip link set can0 down && ip link set can0 type can bitrate 500000 && ip link set can0 up
check "clients get through after all that" list_as candtest
