#!/bin/bash
# The systemd units as systemd reads them, on the host:
#
#   tests/unit/units.sh BUILDDIR
#
# systemd-analyze verify (with ExecStart pointed at BUILDDIR/cand, so the
# binary exists) and the exposure score of systemd-analyze security, which
# must stay under 2.0. (tests/integ/systemd.sh runs them under a real
# systemd in the VM.)
set -u

BUILD=$(cd "${1:?usage: $0 BUILDDIR}" && pwd)
REPO=$(cd "$(dirname "$0")/../.." && pwd)
MAX=2.0

if ! command -v systemd-analyze >/dev/null; then
	echo "units: systemd-analyze missing (Debian package systemd); not checked" >&2
	exit 1
fi
T=$(mktemp -d /tmp/cand-units.XXXXXX)
trap 'rm -rf "$T"' EXIT
sed -e "s|/usr/sbin/cand|$BUILD/cand|g" -e "s|/usr/libexec/cand/|$REPO/systemd/|g" \
	"$REPO/systemd/cand.service" >"$T/cand.service"
sed -e "s|/usr/libexec/cand/|$REPO/systemd/|g" "$REPO/systemd/cand-netns.service" >"$T/cand-netns.service"
cp "$REPO/systemd/cand.socket" "$REPO/systemd/cand-socketcand.socket" "$T/"

rc=0
# The man pages are checked by install.sh, where they are installed.
if ! systemd-analyze verify --man=no "$T/cand.socket" "$T/cand-socketcand.socket" \
	"$T/cand.service" "$T/cand-netns.service"; then
	echo "FAIL: units: systemd-analyze verify" >&2
	rc=1
fi
out=$(systemd-analyze security --offline=yes "$T/cand.service" 2>&1)
score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for cand.service: \([0-9.]*\).*/\1/p')
if [ -z "$score" ]; then
	printf '%s\n' "$out" >&2
	echo "FAIL: units: no exposure score from systemd-analyze security" >&2
	rc=1
elif awk -v s="$score" -v m="$MAX" 'BEGIN { exit !(s >= m) }'; then
	printf '%s\n' "$out" | grep -v '^✓' >&2
	echo "FAIL: units: exposure $score, want under $MAX" >&2
	rc=1
else
	echo "units: verify OK; systemd-analyze security exposure $score (under $MAX)"
fi
exit $rc
