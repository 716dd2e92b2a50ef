#!/bin/sh
# Guest side of tests/vm/vm.sh, common to both modes: in the VM it runs in
# the chroot of the host's / (from initramfs-init.sh), natively it runs in
# fresh namespaces (from native-init.sh). Either way /, /tmp, /run, /root are
# private and /etc is a writable throwaway copy, so we can freely add
# interfaces and users here. It then runs the command from /run/vm/cmd as
# root in the repo directory and exits with its status.
#
# What the command finds (keep in sync with tests/vm/README.md):
#   interfaces  lo up; vcan0 (mtu 72, CAN FD capable) up; vcan1 (mtu 16,
#               classic CAN only) up; in the VM also can0 and can1, two
#               emulated SJA1000 (kvaser_pci) on one emulated bus, up at
#               500 kbit/s with restart-ms 100
#   groups      can (4240, members: candtest), candtest (4242),
#               candtest2 (4243)
#   users       candtest  4242:4242, also in group can, home /tmp/home/candtest
#               candtest2 4243:4243, in no extra group, home /tmp/home/candtest2
#   hostname    cand-vm
#   env         PATH, HOME=/root, LANG=C, TERM, the variables vm.sh forwarded,
#               CAND_IN_VM=1 (VM) or CAND_NATIVE=1 (native run)
set -eu

# shellcheck source=/dev/null # written by vm.sh
. /run/vm/env

die() {
	echo "cand-vm setup: $*" >&2
	exit 125
}
note() {
	if [ "$CAND_VM_VERBOSE" = 1 ]; then echo "cand-vm setup: $*" >&2; fi
}
[ "$CAND_VM_VERBOSE" = 1 ] && set -x
# Any failure before the command starts is a setup failure: status 125.
setup_exit() {
	rc=$?
	if [ $rc != 0 ]; then
		echo "cand-vm setup: failed (status $rc)" >&2
		exit 125
	fi
}
trap setup_exit EXIT

echo cand-vm >/proc/sys/kernel/hostname

# --- network interfaces -----------------------------------------------------
ip link set lo up || die "cannot bring up lo"
ip link add vcan0 type vcan || die "cannot create vcan0 (is the vcan module loaded?)"
ip link set vcan0 mtu 72 || die "cannot set vcan0 mtu 72 (CAN FD)"
ip link set vcan0 up
ip link add vcan1 type vcan || die "cannot create vcan1"
# vcan defaults to the CAN FD mtu; vcan1 stays classic CAN.
ip link set vcan1 mtu 16
ip link set vcan1 up
for dev in can0 can1; do
	[ -e /sys/class/net/$dev ] || continue
	ip link set $dev type can bitrate 500000 restart-ms 100 || die "cannot configure $dev"
	ip link set $dev up || die "cannot bring up $dev"
done

# --- users and groups -------------------------------------------------------
# Plain appends instead of useradd/groupadd: no dependency on the passwd
# package and no lock files, and the numbers are fixed so tests may rely on them.
name_of_uid() { awk -F: -v id="$1" '$3 == id { print $1; exit }' /etc/passwd; }
name_of_gid() { awk -F: -v id="$1" '$3 == id { print $1; exit }' /etc/group; }

# Best effort: when qemu does not run as root, the 9p server cannot read the
# host's shadow files (0640), so the overlay cannot copy them up for writing.
shadow_add() { # file line
	if [ -f "$1" ]; then { echo "$2" >>"$1"; } 2>/dev/null || true; fi
}

add_group() { # name gid
	if grep -q "^$1:" /etc/group; then
		return 0 # a host that already has e.g. "can" keeps its gid
	fi
	other=$(name_of_gid "$2")
	[ -z "$other" ] || die "gid $2 for group $1 is taken by $other"
	echo "$1:x:$2:" >>/etc/group
	shadow_add /etc/gshadow "$1:!::"
}

add_member() { # group user
	line=$(grep "^$1:" /etc/group)
	case ",${line##*:}," in *",$2,"*) return 0 ;; esac
	if [ -z "${line##*:}" ]; then new="$line$2"; else new="$line,$2"; fi
	# sed -i would replace the file, which fails on a bind-mounted file.
	tmp=$(mktemp)
	awk -v g="$1" -v new="$new" -F: '$1 == g { print new; next } { print }' /etc/group >"$tmp"
	cat "$tmp" >/etc/group
	rm -f "$tmp"
}

add_user() { # name uid gid gecos
	if ! grep -q "^$1:" /etc/passwd; then
		other=$(name_of_uid "$2")
		[ -z "$other" ] || die "uid $2 for user $1 is taken by $other"
		echo "$1:x:$2:$3:$4:/tmp/home/$1:/bin/sh" >>/etc/passwd
		shadow_add /etc/shadow "$1:!:19000:0:99999:7:::"
	fi
	mkdir -p "/tmp/home/$1"
	chown "$2:$3" "/tmp/home/$1"
	chmod 755 "/tmp/home/$1"
}

mkdir -p /tmp/home
add_group can 4240
add_group candtest 4242
add_group candtest2 4243
add_user candtest 4242 4242 "cand test user"
add_user candtest2 4243 4243 "cand test user, not in group can"
add_member can candtest

# Name lookups of the own hostname must not wait for DNS.
grep -q 'cand-vm' /etc/hosts 2>/dev/null || echo "127.0.1.1 cand-vm" >>/etc/hosts

note "setup done"

# --- the command ------------------------------------------------------------
cd "$CAND_VM_REPO"
cmd=$(cat /run/vm/cmd)
trap - EXIT
if [ "$CAND_VM_INTERACTIVE" = 1 ]; then
	if [ "$CAND_VM_KIND" = vm ]; then
		# /dev/console cannot be a controlling terminal; the serial port can,
		# so Ctrl-C and job control work in an interactive shell.
		if [ -n "${CAND_VM_ROWS:-}" ]; then
			stty rows "$CAND_VM_ROWS" cols "$CAND_VM_COLS" </dev/ttyS0 2>/dev/null || true
		fi
		exec setsid --wait --ctty sh -c "$cmd" <>/dev/ttyS0 >&0 2>&1
	fi
	exec sh -c "$cmd"
fi
# Batch: nothing may wait for input that never comes.
exec sh -c "$cmd" </dev/null
