#!/bin/bash
# make deb: the Debian packages of this tree, built as a Debian builder
# builds them (dpkg-buildpackage -us -uc -b, no network), then linted:
#
#   debian/make-deb.sh [-s SRCDIR] OUTDIR
#
# dpkg-buildpackage writes its results beside the source directory and
# fills debian/ with build products, so the tree's files (git's view:
# tracked and new, not ignored) are copied to OUTDIR/src/cand-VERSION and
# built there; -s SRCDIR builds a source directory prepared by the caller
# instead (tests/deb/run.sh: the next version, for the upgrade test). The
# .debs, .buildinfo and .changes end up in OUTDIR, the build log in
# OUTDIR/build.log. lintian must find no error and no warning
# (debian/README.source says why each override is there).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
SRC=
while getopts s: opt; do
	case $opt in
	s) SRC=$(cd "$OPTARG" && pwd -P) ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || { echo "usage: $0 [-s SRCDIR] OUTDIR" >&2; exit 2; }
mkdir -p "$1"
OUT=$(cd "$1" && pwd -P)
die() {
	echo "make-deb: $*" >&2
	exit 1
}

if [ -z "$SRC" ]; then
	version=$(dpkg-parsechangelog -l "$REPO/debian/changelog" -S Version)
	rm -rf "$OUT/src"
	SRC=$OUT/src/cand-$version
	mkdir -p "$SRC"
	if git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1; then
		# A tracked file deleted in the tree is listed too: not an error.
		git -C "$REPO" ls-files -z --cached --others --exclude-standard |
			tar -C "$REPO" --null -T - --ignore-failed-read -cf - | tar -C "$SRC" -xf -
	else
		tar -C "$REPO" --exclude=./build --exclude='./build-*' -cf - . | tar -C "$SRC" -xf -
	fi
fi
version=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version)
arch=$(dpkg-architecture -q DEB_HOST_ARCH)
changes=cand_${version}_$arch.changes

(cd "$SRC" && dpkg-checkbuilddeps) ||
	die "build dependencies missing: tests/vm/deps.sh installs them (or apt-get build-dep $SRC)"
# Never leave an older build's packages where tests pick up *.deb.
rm -f "$OUT"/*.deb "$OUT"/*.buildinfo "$OUT"/*.changes
echo "make-deb: dpkg-buildpackage -us -uc -b in $SRC (log: $OUT/build.log)"
if ! (cd "$SRC" && dpkg-buildpackage -us -uc -b) >"$OUT/build.log" 2>&1; then
	tail -n 40 "$OUT/build.log" >&2
	die "dpkg-buildpackage failed (the whole log: $OUT/build.log)"
fi

# The .changes names every file the build made.
parent=$(dirname "$SRC")
files=$(awk '/^Files:/ { f = 1; next } /^[^ ]/ { f = 0 } f { print $5 }' "$parent/$changes")
[ -n "$files" ] || die "$parent/$changes lists no files"
for f in $files $changes; do
	mv -f "$parent/$f" "$OUT/"
done
echo "make-deb: ${files//$'\n'/ }"

lintian --fail-on error,warning --tag-display-limit 0 "$OUT/$changes" ||
	die "lintian: errors or warnings (fix them, or override with a reason in debian/README.source)"
echo "make-deb: lintian: no errors, no warnings"
