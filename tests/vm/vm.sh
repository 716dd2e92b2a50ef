#!/usr/bin/env bash
# Runs a shell command line where a real Linux CAN stack exists: in a
# throwaway qemu VM (host kernel without CAN, or not root), or natively in
# fresh namespaces (root on a host whose kernel has CAN). The command runs as
# root, in the repo directory, in a private world with vcan0/vcan1 (and in the
# VM can0/can1 on an emulated bus) and test users; see tests/vm/README.md.
# Exit status: the command's; 124 when the run timed out; 125 when the VM or
# the setup failed (details on stderr).
#
# How the VM works, and why: the host's kernel may lack CAN, so we boot
# Debian's stock kernel (linux-image-amd64) under qemu with TCG (works as any
# user, no KVM needed). Its initramfs holds only a static busybox, the
# 9p/virtio/CAN modules and initramfs-init.sh; the host's / is shared
# read-only over 9p and becomes a chroot, so the host's binaries, libraries
# and can-utils are used unchanged. The repo (and any -s directory) is shared
# read-write at the same path, so build products and results are visible on
# both sides. Console output streams to our stdout; the exit status comes
# back on a second serial port.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
# modprobe lives in sbin, which a normal user's PATH lacks on Debian.
PATH=$PATH:/usr/sbin:/sbin

usage() {
	cat <<EOF
usage: tests/vm/vm.sh [options] [--] COMMAND...

Runs COMMAND (joined with spaces into one /bin/sh command line, like ssh
does) as root with cwd = $REPO inside the CAN test environment and exits with
its status (124: timeout, 125: VM or setup failure).

options:
  -b DIR      build directory; the initramfs is cached in DIR/vm
              (default: \$CAND_VM_BUILD or $REPO/build)
  -s DIR      also share DIR read-write at the same path (repeatable; the
              repo is always shared, -b DIR too when outside the repo)
  -e NAME[=VALUE]
              pass an environment variable into the guest (repeatable; NAME
              alone takes the host's value, if set). CAND_*, CK_*, BENCH_* and
              CI are passed anyway.
  -t SECS     kill the whole run after SECS seconds, 0 = never
              (default: \$CAND_VM_TIMEOUT or 1200)
  -i          interactive: COMMAND gets the terminal (in the VM: the serial
              console as controlling tty; Ctrl-A X kills the VM)
  -v          verbose: kernel messages and a trace of the guest setup
  --vm        always use a VM, even where a native run would be possible
  --native    require a native run (root, host kernel with CAN)
  --systemd   in the VM, boot the host's systemd as PID 1 and run COMMAND
              as a service of it (cand-vm-command.service); for tests of
              the real units (implies --vm, not with -i)
  --writable-root
              in the VM, all of / writable: an overlay on the host's /
              whose changes live in the VM's memory and go with it (for
              installing packages; implies --vm)
  --check-native
              exit 0 if a native run is possible here, else 1
  -h          this help

environment: CAND_VM_MODE=auto|vm|native (like --vm/--native),
CAND_VM_KERNEL=/boot/vmlinuz-... (and CAND_VM_KVER if its name does not end
in the version), CAND_VM_MEM=MiB (2048), CAND_VM_SMP=N (2),
CAND_VM_ACCEL (tcg,thread=multi; KVM hangs on some hosts), CAND_VM_APPEND
(extra kernel parameters), CAND_VM_BUILD,
CAND_VM_TIMEOUT, CAND_VM_VERBOSE=1.

inside: CAND_IN_VM=1 in the VM, CAND_NATIVE=1 in a native run.
EOF
}

die() {
	echo "vm.sh: $*" >&2
	exit 125
}
note() {
	if [ "$VERBOSE" = 1 ]; then echo "vm.sh: $*" >&2; fi
}

BUILD=${CAND_VM_BUILD:-$REPO/build}
TIMEOUT=${CAND_VM_TIMEOUT:-1200}
MODE=${CAND_VM_MODE:-auto}
MEM=${CAND_VM_MEM:-2048}
SMP=${CAND_VM_SMP:-2}
ACCEL=${CAND_VM_ACCEL:-tcg,thread=multi}
KERNEL=${CAND_VM_KERNEL:-}
KVER=${CAND_VM_KVER:-}
VERBOSE=${CAND_VM_VERBOSE:-0}
INTERACTIVE=0
CHECK_NATIVE=0
SYSTEMD=0
ROOTRW=0
declare -a SHARES=() ENVS=()

while [ $# -gt 0 ]; do
	case $1 in
	-b) BUILD=${2:?-b needs a directory}; shift 2 ;;
	-s) SHARES+=("${2:?-s needs a directory}"); shift 2 ;;
	-e) ENVS+=("${2:?-e needs NAME or NAME=VALUE}"); shift 2 ;;
	-t) TIMEOUT=${2:?-t needs seconds}; shift 2 ;;
	-i) INTERACTIVE=1; shift ;;
	-v) VERBOSE=1; shift ;;
	--vm) MODE=vm; shift ;;
	--native) MODE=native; shift ;;
	--systemd) SYSTEMD=1; shift ;;
	--writable-root) ROOTRW=1; shift ;;
	--check-native) CHECK_NATIVE=1; shift ;;
	-h | --help) usage; exit 0 ;;
	--) shift; break ;;
	-*) usage >&2; die "unknown option $1" ;;
	*) break ;;
	esac
done
case $TIMEOUT in '' | *[!0-9]*) die "-t wants a number of seconds, not '$TIMEOUT'" ;; esac
case $MODE in auto | vm | native) ;; *) die "CAND_VM_MODE must be auto, vm or native" ;; esac
if [ "$SYSTEMD" = 1 ]; then
	# systemd must be PID 1, which only the VM can give it.
	[ "$MODE" != native ] || die "--systemd needs the VM; it cannot run natively"
	[ "$INTERACTIVE" = 0 ] || die "--systemd does not go with -i"
	MODE=vm
fi
if [ "$ROOTRW" = 1 ]; then
	# Only the VM's root can be an overlay that the host never sees.
	[ "$MODE" != native ] || die "--writable-root needs the VM; it cannot run natively"
	MODE=vm
fi

# Native is possible when we are root and the host kernel can really do CAN:
# create a vcan in a scratch network namespace and open a CAN_RAW socket on
# it (candump times out after 1 ms). Loads the modules as a side effect.
can_native() {
	[ "$(id -u)" = 0 ] || return 1
	command -v unshare >/dev/null && command -v candump >/dev/null || return 1
	# Quick no for the common case (no CAN at all), before trying the rest.
	modprobe -q can 2>/dev/null || [ -d /proc/net/can ] || return 1
	local m
	for m in can-raw can-bcm can-gw vcan vxcan; do modprobe -q "$m" 2>/dev/null || true; done
	unshare --net sh -c 'ip link add vcan0 type vcan && ip link set vcan0 up &&
		candump -T 1 -n 1 vcan0' >/dev/null 2>&1
}

if [ "$CHECK_NATIVE" = 1 ]; then
	can_native
	exit
fi
[ $# -gt 0 ] || { usage >&2; die "no COMMAND given"; }
CMD="$*"

KIND=vm
if [ "$MODE" != vm ] && can_native; then
	KIND=native
elif [ "$MODE" = native ]; then
	die "--native: needs root and a host kernel with CAN (vcan, can-raw)"
fi

# --- directories shared with the guest --------------------------------------
mkdir -p "$BUILD" || die "cannot create build directory $BUILD"
BUILD=$(cd "$BUILD" && pwd -P)
VMDIR=$BUILD/vm
mkdir -p "$VMDIR"

abs_dir() { (cd "$1" 2>/dev/null && pwd -P) || die "no such directory: $1"; }
declare -a share_paths=("$REPO")
for s in "${SHARES[@]+"${SHARES[@]}"}" "$BUILD"; do
	s=$(abs_dir "$s")
	covered=0
	for p in "${share_paths[@]}"; do
		case $s/ in "$p"/*) covered=1 ;; esac
	done
	[ $covered = 1 ] || share_paths+=("$s")
done

RUNDIR=$(mktemp -d "${TMPDIR:-/tmp}/cand-vm.XXXXXX")
stage=
# shellcheck disable=SC2317 # called by the trap
cleanup() { rm -rf "$RUNDIR" ${stage:+"$stage"}; }
trap cleanup EXIT
# Without these, bash would die from the signal without running the EXIT trap.
trap 'exit 130' INT
trap 'exit 143' TERM HUP
chmod 755 "$RUNDIR" # the guest-side root must be able to read it

i=0
for p in "${share_paths[@]}"; do
	case $p in *$'\n'*) die "cannot share a path with a newline: $p" ;; esac
	echo "share$i $p"
	i=$((i + 1))
done >"$RUNDIR/shares"
printf '%s\n' "$CMD" >"$RUNDIR/cmd"
cp "$HERE/guest-setup.sh" "$RUNDIR/guest-setup.sh"
cp "$HERE/systemd-guest.sh" "$RUNDIR/systemd-guest.sh"

# --- environment for the guest ----------------------------------------------
q() { # single-quote for /bin/sh
	local s=${1//\'/\'\\\'\'}
	printf "'%s'" "$s"
}
{
	echo "export CAND_VM_REPO=$(q "$REPO")"
	echo "export CAND_VM_KIND=$KIND"
	echo "export CAND_VM_INTERACTIVE=$INTERACTIVE"
	echo "export CAND_VM_VERBOSE=$VERBOSE"
	while read -r name; do
		case $name in
		CAND_VM_* | CAND_IN_VM | CAND_NATIVE) ;;
		CAND_* | CK_* | BENCH_* | CI) echo "export $name=$(q "${!name}")" ;;
		esac
	done < <(compgen -e)
	for e in "${ENVS[@]+"${ENVS[@]}"}"; do
		name=${e%%=*}
		[[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "-e: bad variable name '$name'"
		if [ "$name" != "$e" ]; then
			echo "export $name=$(q "${e#*=}")"
		elif [ -n "${!name+set}" ]; then
			echo "export $name=$(q "${!name}")"
		fi
	done
	if [ "$INTERACTIVE" = 1 ]; then
		echo "export TERM=$(q "${TERM:-vt100}")"
		if size=$(stty size 2>/dev/null); then
			echo "export CAND_VM_ROWS=${size% *} CAND_VM_COLS=${size#* }"
		fi
	fi
	if [ "$KIND" = vm ]; then echo "export CAND_IN_VM=1"; else echo "export CAND_NATIVE=1"; fi
} >"$RUNDIR/env"

with_timeout() {
	if [ "$TIMEOUT" -gt 0 ]; then
		# --foreground: qemu may need the terminal (-i); it has no children.
		timeout --foreground -k 10 "$TIMEOUT" "$@"
	else
		"$@"
	fi
}

# --- native run ---------------------------------------------------------------
if [ "$KIND" = native ]; then
	echo "vm.sh: the host kernel has CAN and we are root: running natively in new namespaces: $CMD" >&2
	set +e
	if [ "$INTERACTIVE" = 1 ]; then
		unshare --mount --net --uts --ipc --pid --fork --kill-child --mount-proc \
			bash "$HERE/native-init.sh" "$RUNDIR" "$TIMEOUT"
	else
		unshare --mount --net --uts --ipc --pid --fork --kill-child --mount-proc \
			bash "$HERE/native-init.sh" "$RUNDIR" "$TIMEOUT" </dev/null
	fi
	rc=$?
	set -e
	if [ "$rc" = 124 ] && [ "$TIMEOUT" -gt 0 ]; then
		echo "vm.sh: TIMEOUT: the command did not finish within $TIMEOUT s and was killed" >&2
	fi
	exit "$rc"
fi

# --- kernel -----------------------------------------------------------------
# The newest installed kernel that has the modules we need.
if [ -z "$KERNEL" ]; then
	for k in $(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V -r); do
		v=${k#/boot/vmlinuz-}
		if modprobe -S "$v" --show-depends vcan >/dev/null 2>&1 &&
			modprobe -S "$v" --show-depends 9pnet_virtio >/dev/null 2>&1; then
			KERNEL=$k
			KVER=$v
			break
		fi
	done
	[ -n "$KERNEL" ] || die "no kernel in /boot with CAN and 9p modules; run tests/vm/deps.sh (installs linux-image-amd64)"
fi
[ -n "$KVER" ] || KVER=$(basename "$KERNEL" | sed 's/^vmlinuz-//')
[ -f "$KERNEL" ] || die "kernel image $KERNEL does not exist"
if [ ! -r "$KERNEL" ]; then
	die "kernel image $KERNEL is not readable by $(id -un) (mode $(stat -c %a "$KERNEL")).
  Some distributions (Ubuntu) install /boot/vmlinuz-* as 0600. Either make it
  readable (sudo chmod 0644 $KERNEL), or copy it somewhere readable and
  point CAND_VM_KERNEL at the copy (with CAND_VM_KVER=$KVER), or run as root."
fi
[ -d "/lib/modules/$KVER" ] || die "no modules for kernel $KVER in /lib/modules/$KVER"

# --- initramfs (cached) -----------------------------------------------------
# Needed to reach the host's / at all; overlay for a writable /etc;
# virtio_rng so that the guest's random pool is ready at once.
BOOT_MODULES="virtio_pci 9pnet_virtio 9p"
BOOT_MODULES_OPTIONAL="overlay virtio_rng"
CAN_MODULES="can can-raw can-bcm can-gw vcan vxcan kvaser_pci"

module_files() { # modules... -> their files and their dependencies', in load order
	local m out
	for m in "$@"; do
		out=$(modprobe -S "$KVER" --show-depends "$m" 2>&1) ||
			die "kernel $KVER has no module $m: $out"
		printf '%s\n' "$out"
	done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }'
}

BUSYBOX=
for b in /bin/busybox /usr/bin/busybox; do
	# Must be the static one (busybox-static): nothing else is in the initramfs.
	if [ -x "$b" ] && ! LC_ALL=C ldd "$b" >/dev/null 2>&1; then
		BUSYBOX=$b
		break
	fi
done
[ -n "$BUSYBOX" ] || die "no static busybox found; install busybox-static (tests/vm/deps.sh)"

# Cache key from cheap inputs only (modprobe takes a while): module names,
# the kernel's module index (rewritten whenever its modules change), busybox
# and the init script.
depfile=/lib/modules/$KVER/modules.dep
[ -r "$depfile" ] || die "$depfile missing or unreadable"
key=$({
	echo "cand-vm initramfs v1 $KVER"
	echo "$BOOT_MODULES / $BOOT_MODULES_OPTIONAL / $CAN_MODULES"
	stat -L -c '%n %s %Y' "$depfile" "$BUSYBOX"
	cat "$HERE/initramfs-init.sh"
} | sha256sum | cut -c1-16)
INITRD=$VMDIR/initramfs-$key.cpio.gz

if [ ! -s "$INITRD" ]; then
	note "building $INITRD"
	# shellcheck disable=SC2086
	mods=$(module_files $BOOT_MODULES)
	for m in $BOOT_MODULES_OPTIONAL; do
		if modprobe -S "$KVER" --show-depends "$m" >/dev/null 2>&1; then
			mods+=$'\n'$(module_files "$m")
		fi
	done
	# shellcheck disable=SC2086
	mods+=$'\n'$(module_files $CAN_MODULES)
	mods=$(printf '%s\n' "$mods" | awk 'NF && !seen[$0]++')
	for f in $mods; do
		[ -r "$f" ] || die "kernel module $f is not readable by $(id -un)"
	done
	stage=$(mktemp -d "$VMDIR/stage.XXXXXX")
	mkdir -p "$stage/bin" "$stage/dev" "$stage/proc" "$stage/sys" "$stage/host" "$stage/tmp"
	cp "$BUSYBOX" "$stage/bin/busybox"
	ln -s busybox "$stage/bin/sh"
	cp "$HERE/initramfs-init.sh" "$stage/init"
	chmod 755 "$stage/init" "$stage/bin/busybox"
	for f in $mods; do
		rel=${f#*/modules/"$KVER"/}
		dst=$stage/lib/modules/$rel
		mkdir -p "$(dirname "$dst")"
		# busybox insmod wants plain .ko files; newer Debian compresses them.
		case $f in
		*.ko.xz) "$BUSYBOX" unxz -c "$f" >"${dst%.xz}"; rel=${rel%.xz} ;;
		*.ko.gz) gzip -dc "$f" >"${dst%.gz}"; rel=${rel%.gz} ;;
		*.ko.zst) command -v zstd >/dev/null || die "$f is zstd-compressed; install zstd"
			zstd -qdc "$f" >"${dst%.zst}"; rel=${rel%.zst} ;;
		*) cp "$f" "$dst" ;;
		esac
		echo "$rel"
	done >"$stage/modules.list"
	(cd "$stage" && find . -print | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
		gzip -1 >"$INITRD.tmp.$$" || die "cannot build the initramfs (cpio, gzip)"
	mv -f "$INITRD.tmp.$$" "$INITRD" # atomic: parallel runs may race here
	rm -rf "$stage"
	for old in "$VMDIR"/initramfs-*.cpio.gz; do
		[ "$old" = "$INITRD" ] || rm -f "$old"
	done
fi

# --- qemu -------------------------------------------------------------------
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing; run tests/vm/deps.sh"
esc() { printf '%s' "${1//,/,,}"; } # qemu option values double their commas

append="console=ttyS0 panic=-1 cand.interactive=$INTERACTIVE"
if [ "$VERBOSE" = 1 ]; then
	append+=" loglevel=7 cand.verbose=1"
else
	# Errors only: panics and oopses still show, boot chatter does not.
	append+=" quiet loglevel=3"
fi
if [ "$SYSTEMD" = 1 ]; then append+=" cand.systemd=1"; fi
if [ "$ROOTRW" = 1 ]; then append+=" cand.rootrw=1"; fi
append+=${CAND_VM_APPEND:+ $CAND_VM_APPEND} # extra kernel parameters, for debugging
if [ "$INTERACTIVE" = 1 ]; then console=mon:stdio; else console=stdio; fi

# shellcheck disable=SC2054 # commas belong to qemu option values
QEMU=(qemu-system-x86_64 -nodefaults -no-user-config
	-accel "$ACCEL" -machine pc -smp "$SMP" -m "$MEM"
	-display none -no-reboot
	-kernel "$KERNEL" -initrd "$INITRD" -append "$append"
	-serial "$console"
	-chardev "file,id=status,path=$(esc "$RUNDIR/status")" -serial chardev:status
	-virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap
	-virtfs "local,path=$(esc "$RUNDIR"),mount_tag=vmrun,security_model=none"
	-object can-bus,id=canbus0
	-device kvaser_pci,canbus=canbus0
	-device kvaser_pci,canbus=canbus0
	-device virtio-rng-pci)
i=0
for p in "${share_paths[@]}"; do
	QEMU+=(-virtfs "local,path=$(esc "$p"),mount_tag=share$i,security_model=none,multidevs=remap")
	i=$((i + 1))
done

show_qemu() {
	echo "vm.sh: the qemu command was:" >&2
	printf ' %q' "${QEMU[@]}" >&2
	echo >&2
	echo "vm.sh: (the run directory it names is gone; re-run with -v for kernel messages)" >&2
}

if [ "$VERBOSE" = 1 ]; then
	note "kernel $KERNEL, initramfs $INITRD"
	printf ' %q' "${QEMU[@]}" >&2
	echo >&2
fi
# One line so that a log says where its output came from.
if [ "$INTERACTIVE" = 1 ]; then
	echo "vm.sh: booting a VM (Linux $KVER, qemu $ACCEL); Ctrl-A X kills it" >&2
else
	init=""
	[ "$SYSTEMD" = 1 ] && init=", systemd as PID 1"
	echo "vm.sh: booting a VM (Linux $KVER, qemu $ACCEL$init) to run: $CMD" >&2
fi

set +e
if [ "$INTERACTIVE" = 1 ]; then
	with_timeout "${QEMU[@]}"
	rc=$?
else
	# stdin from /dev/null: nothing to type, and qemu must not put a terminal
	# into raw mode (Ctrl-C then still stops it). Through cat: qemu makes its
	# stdout non-blocking, which must not leak to make's shared stdout.
	with_timeout "${QEMU[@]}" </dev/null | cat
	rc=${PIPESTATUS[0]}
fi
set -e

status=$(sed -n 's/^CAND_VM_EXIT=\([0-9][0-9]*\).*/\1/p' "$RUNDIR/status" 2>/dev/null | tail -n 1)
if [ "$rc" = 124 ] && [ "$TIMEOUT" -gt 0 ] && [ -z "$status" ]; then
	echo "vm.sh: TIMEOUT: the VM did not finish within $TIMEOUT s and was killed (-t SECS / CAND_VM_TIMEOUT to change)" >&2
	show_qemu
	exit 124
fi
if [ -z "$status" ]; then
	echo "vm.sh: the VM stopped without reporting an exit status (qemu exit status $rc): qemu failed, the kernel panicked or the guest was killed" >&2
	show_qemu
	exit 125
fi
if [ "$status" = 125 ]; then
	echo "vm.sh: the guest setup or the command failed with status 125" >&2
	show_qemu
fi
exit "$status"
