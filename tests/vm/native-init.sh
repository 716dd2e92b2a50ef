#!/usr/bin/env bash
# Native counterpart of initramfs-init.sh, for a host whose kernel has CAN and
# where we are root: tests/vm/vm.sh runs this as PID 1 of fresh mount, net,
# uts, ipc and pid namespaces (unshare). It gives guest-setup.sh the same
# private world the VM has, without touching the host: its own network stack
# (vcan0/vcan1 exist only in here), empty tmpfs on /tmp /var/tmp /run /root,
# a throwaway /etc, and the shared directories at their own paths. When we
# exit, the kernel kills whatever the command left running in the namespace.
#
# usage: native-init.sh RUNDIR TIMEOUT
#
# The timeout is applied in here rather than around unshare: unshare blocks
# SIGTERM while it waits, and the namespace's PID 1 ignores signals from
# outside, so a TERM from an outer timeout would reach nobody.
set -euo pipefail

rundir=$1
timeout=$2
die() {
	echo "cand-vm native: $*" >&2
	exit 125
}
if [ -n "${CAND_VM_VERBOSE_NATIVE:-}" ]; then PS4='+ $EPOCHREALTIME '; set -x; fi

mount --make-rprivate / || die "cannot make mounts private"

# The tmpfs mounts below may hide the repo (e.g. a clone under /tmp) and the
# run directory. Hold each open now and bind it back from /proc/self/fd
# afterwards (--no-canonicalize, or mount would resolve the link to a path,
# which by then names the empty tmpfs).
declare -a paths=() fds=()
while read -r _tag path; do
	[ -n "$path" ] || continue
	exec {fd}<"$path" || die "cannot open $path"
	paths+=("$path")
	fds+=("$fd")
done <"$rundir/shares"
exec {runfd}<"$rundir"

# sysfs anew so that /sys/class/net shows this namespace's interfaces.
mount -t sysfs sysfs /sys || die "cannot mount sysfs"
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=1777 tmpfs /var/tmp
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=700 tmpfs /root
mkdir -p /run/lock /run/vm /run/.cand-vm
mount --no-canonicalize --bind "/proc/self/fd/$runfd" /run/vm

# Throwaway /etc, as in the VM.
mount -t tmpfs -o mode=700 tmpfs /run/.cand-vm
mkdir -p /run/.cand-vm/upper /run/.cand-vm/work
if ! mount -t overlay overlay \
	-o lowerdir=/etc,upperdir=/run/.cand-vm/upper,workdir=/run/.cand-vm/work /etc 2>/dev/null; then
	echo "cand-vm native: no overlay on /etc; only passwd, group, shadow, gshadow, hosts are writable" >&2
	mkdir -p /run/.cand-vm/files
	for f in passwd group shadow gshadow hosts; do
		[ -f /etc/$f ] || continue
		cp -p /etc/$f /run/.cand-vm/files/$f
		mount --bind /run/.cand-vm/files/$f /etc/$f
	done
fi

for i in "${!paths[@]}"; do
	mkdir -p "${paths[$i]}"
	mount --no-canonicalize --bind "/proc/self/fd/${fds[$i]}" "${paths[$i]}" ||
		die "cannot bind ${paths[$i]}"
	eval "exec ${fds[$i]}<&-"
done
exec {runfd}<&-

# Not exec: as PID 1 we must stay until the command ends, so that leftover
# background processes die with the namespace rather than linger.
status=0
limit=()
# --foreground: keep the terminal usable for -i; what the command leaves
# running dies with the namespace when we exit anyway.
if [ "$timeout" -gt 0 ]; then limit=(timeout --foreground -k 10 "$timeout"); fi
"${limit[@]}" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/root USER=root LOGNAME=root SHELL=/bin/sh LANG=C TERM=dumb \
	/bin/sh /run/vm/guest-setup.sh || status=$?
exit $status
