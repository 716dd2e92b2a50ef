#!/bin/bash
# The daemon's layers and the size of every file, measured on a build:
#
#   tests/unit/layers.sh BUILDDIR
#
# Each daemon object belongs to the layer of its folder, bottom to top:
# base can conf ops, then the front-ends pb and sc side by side, then
# daemon/main.c. From `nm` of all of them it prints every reference from
# a file to a symbol defined in a higher layer or in the other front-end,
# and every reference to the generated protobuf code from outside pb;
# from the compiler's dependency files (-MMD), every header a file
# includes from a higher layer or the other front-end, and any file but
# pb's and main.c that includes cand.pb-c.h. Then the largest files of
# daemon/ client/ proto/ bench/ tests/, and every one over 600 lines.
#
# Exit 1 for any upward or sideways reference or include, or a file over
# 600 lines.
set -u

BUILD=${1:?usage: $0 BUILDDIR}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
MAX=600
LAYERS="base can conf ops pb main"
rc=0

cd "$REPO" || exit 2
if [ ! -d "$BUILD/daemon" ]; then
	echo "layers: no $BUILD/daemon (make first)" >&2
	exit 2
fi

# The layer number of a daemon source or object path; "" if none.
layer_of() {
	local p=${1#"$BUILD"/} i=0 l
	p=${p#daemon/}
	case "$p" in
	*/*) p=${p%%/*} ;;
	main.[cdo]) p=main ;;
	*) p=shared ;; # daemon.h: every layer's
	esac
	# The front-ends share a layer; front_of() keeps them apart.
	[ "$p" = sc ] && p=pb
	for l in $LAYERS; do
		if [ "$l" = "$p" ]; then
			echo "$i"
			return
		fi
		i=$((i + 1))
	done
}

# The front-end folder of a path (pb or sc), or "".
front_of() {
	local p=${1#"$BUILD"/}
	p=${p#daemon/}
	case "$p" in
	pb/* | sc/*) echo "${p%%/*}" ;;
	esac
}

# The objects of today's sources only: a build dir may keep stale ones.
mapfile -t objs < <(git ls-files -co --exclude-standard 'daemon/*.c' |
	sed "s|^|$BUILD/|; s|\.c\$|.o|" | sort)
if [ "${#objs[@]}" -eq 0 ]; then
	echo "layers: no objects under $BUILD/daemon" >&2
	exit 2
fi

# symbol -> the object defining it (daemon objects and the protobuf code).
declare -A def
for o in "${objs[@]}" "$BUILD/proto/cand.pb-c.o"; do
	[ -f "$o" ] || continue
	while read -r sym; do
		def[$sym]=$o
	done < <(nm --defined-only --extern-only "$o" | awk '{ print $3 }')
done

up=0
echo "layers: references from a file to a higher layer or the other front-end (file -> symbol [defined in])"
for o in "${objs[@]}"; do
	lo=$(layer_of "$o")
	while read -r sym; do
		d=${def[$sym]:-}
		[ -n "$d" ] || continue
		src=${o#"$BUILD"/}
		if [ "$d" = "$BUILD/proto/cand.pb-c.o" ]; then
			[ "$lo" -lt "$(layer_of daemon/pb/x.o)" ] ||
				[ "$(front_of "$o")" = sc ] || continue
			echo "  ${src%.o}.c -> $sym [generated protobuf code]"
			up=$((up + 1))
			continue
		fi
		ld=$(layer_of "$d")
		fo=$(front_of "$o")
		fd=$(front_of "$d")
		if [ "$ld" -gt "$lo" ] ||
			{ [ -n "$fo" ] && [ -n "$fd" ] && [ "$fo" != "$fd" ]; }; then
			dsrc=${d#"$BUILD"/}
			echo "  ${src%.o}.c -> $sym [${dsrc%.o}.c]"
			up=$((up + 1))
		fi
	done < <(nm --undefined-only "$o" | awk '{ print $2 }')
done
[ "$up" -eq 0 ] && echo "  none"

inc=0
echo "layers: headers included from a higher layer or the other front-end (file -> header)"
for o in "${objs[@]}"; do
	dep=${o%.o}.d
	[ -f "$dep" ] || continue
	lo=$(layer_of "$o")
	src=${o#"$BUILD"/}
	src=${src%.o}.c
	for h in $(sed -e 's/\\$//' -e 's/^[^:]*://' "$dep" | tr ' ' '\n' |
		grep -E '\.h$' | sort -u); do
		case "$h" in
		*cand.pb-c.h)
			if [ "$lo" -lt "$(layer_of daemon/pb/x.o)" ] ||
				[ "$(front_of "$o")" = sc ]; then
				echo "  $src -> cand.pb-c.h (the protobuf front-end's only)"
				inc=$((inc + 1))
			fi
			continue
			;;
		daemon/*) ;;
		*) continue ;;
		esac
		lh=$(layer_of "$h")
		fo=$(front_of "$o")
		fh=$(front_of "$h")
		if { [ -n "$lh" ] && [ "$lh" -gt "$lo" ]; } ||
			{ [ -n "$fo" ] && [ -n "$fh" ] && [ "$fo" != "$fh" ]; }; then
			echo "  $src -> $h"
			inc=$((inc + 1))
		fi
	done
done
# The sources too, should an object be missing its dependency file.
for f in $(grep -l '#include.*cand\.pb-c\.h' daemon/base/* daemon/can/* daemon/conf/* \
	daemon/ops/* daemon/sc/* 2>/dev/null); do
	echo "  $f -> cand.pb-c.h (the protobuf front-end's only)"
	inc=$((inc + 1))
done
[ "$inc" -eq 0 ] && echo "  none"
[ $((up + inc)) -gt 0 ] && rc=1

# ---- sizes ----
sizes=$(git ls-files -co --exclude-standard daemon client proto bench tests |
	grep -E '\.(c|h|sh|proto|py)$' | while read -r f; do
	[ -f "$f" ] && printf '%d %s\n' "$(wc -l <"$f")" "$f"
done | sort -rn)
echo "sizes: the largest files"
printf '%s\n' "$sizes" | head -n 8 | sed 's/^/  /'
echo "sizes: over $MAX lines"
over=0
while read -r n f; do
	[ -n "$f" ] && [ "$n" -gt "$MAX" ] || continue
	echo "  $n $f"
	rc=1
	over=$((over + 1))
done <<<"$sizes"
[ "$over" -eq 0 ] && echo "  none"
exit $rc
