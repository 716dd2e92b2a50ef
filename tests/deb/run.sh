#!/bin/bash
# The Debian packages on a system that has never seen cand (make check,
# make check-deb):
#
#   tests/deb/run.sh DEBDIR
#
# DEBDIR is what make deb left: the packages, and in src/ the source they
# were built from. First the next build of that source, as a maintainer
# makes one: a changed /etc/cand.conf and a new changelog entry, built the
# same way (debian/make-deb.sh -s) into DEBDIR/next. Then in a VM booted
# with systemd as PID 1 on a writable root that the host never sees
# (vm.sh --systemd --writable-root), tests/deb/guest.sh installs, uses,
# upgrades, removes and purges them. The last line is
# "deb: N passed, N failed".
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
[ $# -eq 1 ] || { echo "usage: $0 DEBDIR" >&2; exit 2; }
DEB=$(cd "$1" && pwd -P)
VM_BUILD=${CAND_VM_BUILD:-$(dirname "$DEB")}

# One failed check and the summary, when nothing could be tested.
give_up() {
	echo "FAIL: deb: $*"
	echo "deb: 0 passed, 1 failed"
	exit 1
}

src=$(find "$DEB/src" -mindepth 1 -maxdepth 1 -type d -name 'cand-*' 2>/dev/null | head -n 1)
[ -n "$src" ] || give_up "no source in $DEB/src: run make deb first"
version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
next=$version+next1
maint=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Maintainer)

N=$DEB/next
rm -rf "$N"
mkdir -p "$N/src"
cp -a "$src" "$N/src/cand-$next"
# What an upgrade brings: an edited default configuration (dpkg must ask
# before replacing an administrator's changed one) and a newer version.
cat >>"$N/src/cand-$next/etc/cand.conf" <<'CONF'

# (The next package's version of this file: tests/deb/run.sh.)
CONF
{
	printf 'cand (%s) unstable; urgency=medium\n\n' "$next"
	printf '  * Test build: a changed /etc/cand.conf (tests/deb/run.sh).\n\n'
	printf ' -- %s  %s\n\n' "$maint" "$(date -R)"
	cat "$src/debian/changelog"
} >"$N/src/cand-$next/debian/changelog"
"$REPO/debian/make-deb.sh" -s "$N/src/cand-$next" "$N" >"$N/make-deb.log" 2>&1 ||
	{ cat "$N/make-deb.log"; give_up "the next build ($next) failed"; }
echo "deb: built $next for the upgrade test"

q() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }
exec "$HERE/../vm/vm.sh" --systemd --writable-root -b "$VM_BUILD" -s "$DEB" \
	-t "${CAND_VM_DEB_TIMEOUT:-600}" -- "bash tests/deb/guest.sh $(q "$DEB") $(q "$N")"
