#!/bin/busybox sh
# shellcheck shell=dash
# /init of the cand test VM: PID 1 inside the initramfs that tests/vm/vm.sh
# builds. Only the static busybox and a few kernel modules are in the
# initramfs; everything else comes from the host:
#
#   9p "host"   the host's / (read-only)  -> /host, later the chroot
#               (with cand.rootrw=1 the lower layer of an overlay whose
#               upper layer is a tmpfs: all of / writable, the host intact)
#   9p "vmrun"  vm.sh's per-run directory -> /run/vm in the chroot
#               (cmd, env, shares, guest-setup.sh)
#   9p "shareN" read-write directories (the repo, maybe the build dir),
#               mounted at the same path as on the host
#
# It makes the chroot usable (proc, sys, dev, tmpfs on the writable places,
# a writable overlay on /etc), runs /run/vm/guest-setup.sh in it, reports the
# exit status as "CAND_VM_EXIT=<n>" on the second serial port (a file on the
# host, so the marker can never be mixed up with test output or kernel
# messages on the console) and powers off.
#
# With cand.systemd=1 (vm.sh --systemd) the host's systemd becomes PID 1
# instead: the same mounts plus a tmpfs on /var, then switch_root into the
# host's / and systemd boots cand-vm.target, whose one service runs
# /run/vm/systemd-guest.sh (guest-setup.sh, then the status, then power off).
export PATH=/bin
/bin/busybox --install -s /bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

verbose=0
interactive=0
systemd=0
rootrw=0
for arg in $(cat /proc/cmdline); do
	case $arg in
	cand.verbose=1) verbose=1 ;;
	cand.interactive=1) interactive=1 ;;
	cand.systemd=1) systemd=1 ;;
	cand.rootrw=1) rootrw=1 ;;
	esac
done
[ $verbose = 1 ] && set -x

report() {
	# Not even "reboot: Power down" (an emergency message) on the console.
	[ $verbose = 1 ] || echo 0 >/proc/sys/kernel/printk
	echo "CAND_VM_EXIT=$1" >/dev/ttyS1
	[ $verbose = 1 ] && echo "CAND_VM_EXIT=$1"
	poweroff -f
	sleep 60 # poweroff -f does not return; never let PID 1 exit (panic)
}

fail() {
	echo "cand-vm init: $*" >&2
	report 125
}

# Modules in dependency order (vm.sh got it from modprobe --show-depends).
while read -r mod; do
	insmod "/lib/modules/$mod" || echo "cand-vm init: warning: could not load $mod" >&2
done </modules.list

# A large msize: the default 8 KiB makes 9p several times slower.
o9p=trans=virtio,version=9p2000.L,msize=262144
H=/host
# The host's root does not change under us while we run (the writable shares
# are separate mounts), so let the guest cache it: much faster exec/ld.so.
if [ $rootrw = 1 ]; then
	# Package tests write all over / (dpkg, apt, maintainer scripts): an
	# overlay whose upper layer lives in a tmpfs outside the new root.
	mkdir -p /lower /rw
	mount -t 9p -o ro,$o9p,cache=loose host /lower || fail "cannot mount the host's / over 9p"
	mount -t tmpfs -o mode=755 tmpfs /rw
	mkdir -p /rw/upper /rw/work
	mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work $H ||
		fail "cannot mount a writable overlay on the host's / (cand.rootrw=1)"
else
	mount -t 9p -o ro,$o9p,cache=loose host $H || fail "cannot mount the host's / over 9p"
fi
mkdir -p /vmrun
mount -t 9p -o $o9p vmrun /vmrun || fail "cannot mount the run directory over 9p"

mount -t proc proc $H/proc || fail "cannot mount /proc in the chroot"
mount -t sysfs sysfs $H/sys
mount -t devtmpfs devtmpfs $H/dev
mkdir -p $H/dev/pts $H/dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $H/dev/pts
mount -t tmpfs -o mode=1777 tmpfs $H/dev/shm
# devtmpfs lacks these; bash process substitution needs /dev/fd.
ln -sf /proc/self/fd $H/dev/fd
ln -sf /proc/self/fd/0 $H/dev/stdin
ln -sf /proc/self/fd/1 $H/dev/stdout
ln -sf /proc/self/fd/2 $H/dev/stderr

# The writable places of a normal system, empty, as on a fresh boot.
mount -t tmpfs -o mode=1777 tmpfs $H/tmp
mount -t tmpfs -o mode=1777 tmpfs $H/var/tmp
mount -t tmpfs -o mode=755 tmpfs $H/run
mount -t tmpfs -o mode=700 tmpfs $H/root
mkdir -p $H/run/lock $H/run/vm
mount --bind /vmrun $H/run/vm

# /etc writable (tests add users, groups, hosts entries): an overlay whose
# upper layer lives in a tmpfs outside the chroot. Fallback: writable copies
# of just the files guest-setup.sh edits. (cand.rootrw=1: all of / is.)
etc_overlay() {
	mkdir -p /ovl
	mount -t tmpfs -o mode=755 tmpfs /ovl
	mkdir -p /ovl/upper /ovl/work
	mount -t overlay overlay -o lowerdir=$H/etc,upperdir=/ovl/upper,workdir=/ovl/work $H/etc &&
		return 0
	echo "cand-vm init: warning: no overlay on /etc; only passwd, group, shadow, gshadow, hosts are writable" >&2
	mkdir -p /ovl/files
	for f in passwd group shadow gshadow hosts; do
		[ -f $H/etc/$f ] || continue
		cp $H/etc/$f /ovl/files/$f && mount --bind /ovl/files/$f $H/etc/$f
	done
}
[ $rootrw = 1 ] || etc_overlay

# Writable shares last, so that the tmpfs mounts above cannot hide them
# (CI may clone the repo under /tmp).
while read -r tag path; do
	[ -n "$tag" ] || continue
	mkdir -p "$H$path" || fail "cannot create mount point $path"
	# cache=mmap: no caching, but shared writable mmap works.
	mount -t 9p -o $o9p,cache=mmap "$tag" "$H$path" || fail "cannot mount $path over 9p"
done </vmrun/shares

# Batch runs: the host reads a pipe or a log file, where the tty's CR before
# every LF is just noise. Interactive runs keep it: the host terminal is raw.
[ $interactive = 1 ] || stty -onlcr

if [ $systemd = 1 ]; then
	# systemd wants a writable /var as on a fresh boot (journal, random
	# seed). A writable root has one: the host's, with dpkg's database.
	if [ $rootrw = 0 ]; then
		mount -t tmpfs -o mode=755 tmpfs $H/var || fail "cannot mount /var"
		mkdir -p $H/var/tmp $H/var/lib $H/var/log $H/var/cache $H/var/spool
		chmod 1777 $H/var/tmp
		ln -s /run $H/var/run
		ln -s /run/lock $H/var/lock
	fi
	# Runtime units, read at boot: a target with nothing but our service.
	mkdir -p $H/run/systemd/system
	cat >$H/run/systemd/system/cand-vm.target <<-'UNIT'
	[Unit]
	Description=cand test VM: run the command, report, power off
	Requires=basic.target cand-vm-command.service
	After=basic.target cand-vm-command.service
	AllowIsolate=yes
	UNIT
	cat >$H/run/systemd/system/cand-vm-command.service <<-'UNIT'
	[Unit]
	Description=the command of tests/vm/vm.sh
	After=basic.target
	[Service]
	Type=exec
	ExecStart=/bin/sh /run/vm/systemd-guest.sh
	StandardInput=null
	StandardOutput=tty
	StandardError=inherit
	TTYPath=/dev/ttyS0
	Environment=HOME=/root USER=root LOGNAME=root SHELL=/bin/sh LANG=C TERM=dumb
	UNIT
	# The API filesystems go along; systemd finds them mounted.
	for m in dev sys proc; do
		umount /$m 2>/dev/null
	done
	exec switch_root $H /lib/systemd/systemd --unit=cand-vm.target --log-level=warning \
		--show-status=error ||
		fail "switch_root to systemd failed"
fi

chroot $H /usr/bin/env -i \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/root USER=root LOGNAME=root SHELL=/bin/sh LANG=C TERM=dumb \
	/bin/sh /run/vm/guest-setup.sh
report $?
