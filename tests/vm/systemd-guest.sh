#!/bin/sh
# The command's unit in vm.sh --systemd mode (cand-vm-command.service, from
# initramfs-init.sh): the usual guest setup and command under the host's
# systemd as PID 1, then the exit status on the second serial port, as the
# chroot mode reports it, and an immediate power off.
# systemd opened the console for us with its own settings: LF alone, as
# in the chroot mode, so that logs on the host have no CR at line ends.
stty -onlcr 2>/dev/null
/bin/sh /run/vm/guest-setup.sh
rc=$?
echo "CAND_VM_EXIT=$rc" >/dev/ttyS1
# --force twice: no orderly stop, the run is over and its status is out.
# Not even "reboot: Power down" on the console.
echo 0 >/proc/sys/kernel/printk
systemctl poweroff --force --force
sleep 60
