#!/bin/bash
# canctl's help, man page and bash completion against what each command
# really takes, on the host (no CAN, no daemon):
#
#   tests/unit/options.sh BUILDDIR
#
# Every option letter getopt accepts (found by trying them all) is in
# `canctl COMMAND --help`, in the command's section of canctl(1), and is
# what completion offers after '-'; completion's commands are the help's,
# and its interfaces are those `canctl list` shows (a stand-in canctl on
# PATH answers list, since there is no daemon here).
set -u

BUILD=$(cd "${1:?usage: $0 BUILDDIR}" && pwd) || exit 2
REPO=$(cd "$(dirname "$0")/../.." && pwd)
CANCTL=$BUILD/canctl
COMPLETION=$REPO/client/canctl.bash
MANPAGE=$REPO/docs/man/canctl.1
T=$(mktemp -d /tmp/cand-options.XXXXXX)
trap 'rm -rf "$T"' EXIT
passed=0
failed=0

run() {
	if "$1"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: options: $1" >&2
	fi
}

err() {
	echo "  $*" >&2
	return 1
}

# canctl list as a daemon with vcan0, vcan1 and can0 would answer it, the
# real canctl for everything else; -s /nonexistent fails as it would.
mkdir "$T/bin"
cat >"$T/bin/canctl" <<STUB
#!/bin/sh
[ "\$1 \$2" = "-s /nonexistent" ] && exit 1
[ "\$1" = -s ] && shift 2
if [ "\$1" = list ]; then
	printf 'vcan0  up  mtu 72  vcan\nvcan1  up  mtu 16  vcan\ncan0  up  mtu 16  sja1000\n'
	exit 0
fi
exec "$CANCTL" "\$@"
STUB
chmod 755 "$T/bin/canctl"

# man_section CMD: the part of canctl(1) on CMD, its .SS up to the next.
man_section() {
	awk -v c="$1" '/^\.S[SH] / { on = $1 == ".SS" && $2 == c; next } on' "$MANPAGE"
}

# The commands in canctl --help's list.
help_commands() {
	"$CANCTL" --help | awk '/^commands:/ { on = 1; next } /^$/ { on = 0 }
		on && /^  [a-z]/ { print $1 }'
}

# accepted CMD: the option letters CMD's getopt takes, one a line; none
# for a command without options (which says no "unknown option"). Tried
# once per command: a slow VM pays a second or so for every command's 62.
accepted() {
	local c out cache="$T/accepted.$1"
	if [ ! -e "$cache" ]; then
		: >"$cache"
		out=$("$CANCTL" -s /nonexistent "$1" -% </dev/null 2>&1)
		if [[ $out == *"unknown option -%"* ]]; then
			for c in {a..z} {A..Z} {0..9}; do
				out=$(cd "$T" && timeout 5 "$CANCTL" -s /nonexistent "$1" "-$c" </dev/null 2>&1)
				[[ $out == *"unknown option -$c"* ]] || echo "$c"
			done >"$cache"
		fi
	fi
	cat "$cache"
}

# complete WORD...: what bash completion offers for "canctl WORD...", the
# last word being the one completed, sorted, one a line.
complete_words() {
	PATH="$T/bin:$PATH" bash -c '
		. /usr/share/bash-completion/bash_completion
		. "$0"
		COMP_WORDS=(canctl "$@")
		COMP_CWORD=$#
		COMP_LINE="canctl $*"
		COMP_POINT=${#COMP_LINE}
		_canctl canctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"' "$COMPLETION" "$@" | sort
}

t_help_and_man_show_every_option() {
	local cmd c help man bad="" unman=""
	for cmd in $(help_commands); do
		help=$("$CANCTL" "$cmd" --help) || err "canctl $cmd --help failed" || return 1
		man=$(man_section "$cmd")
		[ -n "$man" ] || unman="$unman $cmd"
		for c in $(accepted "$cmd"); do
			# -x alone, or in a bundle such as [-caxl].
			grep -Eq -- "(^|[[ ])-[A-Za-z0-9]*$c" <<<"$help" || bad="$bad $cmd:-$c"
			grep -Fq -- "\\-$c" <<<"$man" || unman="$unman $cmd:-$c"
		done
	done
	[ -z "$bad" ] || err "options not in their command's --help:$bad" || return 1
	[ -z "$unman" ] || err "not in canctl(1):$unman"
}

t_complete_commands_and_options() {
	local cmd want got
	want=$(help_commands | grep -vx help | sort)
	got=$(complete_words "" | grep -vx help)
	[ "$want" = "$got" ] || err "commands: completion offers '$got', the help lists '$want'" || return 1
	for cmd in $(help_commands); do
		want=$(accepted "$cmd" | sed 's/^/-/' | sort)
		[ -n "$want" ] || continue
		got=$(complete_words "$cmd" - | grep -Ex -- '-[A-Za-z0-9]')
		[ "$want" = "$got" ] ||
			err "canctl $cmd -<TAB>: offers" "$(tr "\n" " " <<<"$got")" "; getopt takes" "$(tr "\n" " " <<<"$want")" || return 1
	done
	complete_words dump -- | grep -qx -- --help || err "no --help after canctl dump" || return 1
	complete_words monitor --th | grep -qx -- --throttle || err "no --throttle for monitor"
}

t_complete_interfaces() {
	local want got
	want=$("$T/bin/canctl" list | awk '{ print $1 }' | sort)
	[ -n "$want" ] || err "canctl list showed nothing" || return 1
	got=$(complete_words state "")
	[ "$want" = "$got" ] || err "canctl state <TAB>: '$got', canctl list: '$want'" || return 1
	# dump and sniff take "any" too; a value of -n is the user's.
	got=$(complete_words dump -t a "")
	[ "$(printf '%s\nany\n' "$want" | sort)" = "$got" ] ||
		err "canctl dump -t a <TAB>: '$got'" || return 1
	[ "$(complete_words dump -t "")" = "$(printf 'A\na\nd\nz\n' | sort)" ] ||
		err "canctl dump -t <TAB>: '$(complete_words dump -t "")'" || return 1
	[ -z "$(complete_words gen -n "")" ] || err "canctl gen -n <TAB> offered '$(complete_words gen -n "")'" || return 1
	complete_words sniff vc | grep -qx vcan0 || err "canctl sniff vc<TAB>: '$(complete_words sniff vc)'" || return 1
	# play's mappings: an interface, then '=' and a logged one.
	complete_words play vcan1=vc | grep -qx vcan1=vcan0 ||
		err "canctl play vcan1=vc<TAB>: '$(complete_words play vcan1=vc)'" || return 1
	# The socket of -s is the one asked.
	[ -z "$(complete_words -s /nonexistent state "")" ] ||
		err "canctl -s /nonexistent state <TAB> offered interfaces"
}

run t_help_and_man_show_every_option
run t_complete_commands_and_options
run t_complete_interfaces
echo "options: $passed passed, $failed failed"
[ "$failed" = 0 ]
