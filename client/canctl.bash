# bash completion for canctl(1): commands, their options, and interfaces
# from "canctl list" (through the socket -s names, else $CAND_SOCKET).
# shellcheck shell=bash

# The interfaces cand knows, and "any" where a command takes it.
_canctl_ifaces() {
	local sock=$1 any=$2
	# shellcheck disable=SC2086 # the socket option is two words or none
	canctl $sock list 2>/dev/null | awk '{ print $1 }'
	[ -n "$any" ] && echo any
}

_canctl() {
	local cur prev words cword cmd="" sock="" i
	_init_completion || return

	# The command is the first word that is no global option.
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-s)
			sock="-s ${words[i + 1]}"
			((i++))
			;;
		-*) ;;
		*)
			cmd=${words[i]}
			break
			;;
		esac
	done

	if [ -z "$cmd" ]; then
		case $prev in
		-s)
			_filedir
			return
			;;
		esac
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "-s -h --help" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "list send dump play gen
				sniff busload periodic monitor state set restart events
				clients help" -- "$cur")
		fi
		return
	fi

	# Options that take a value, per command: the value is not an option.
	local opts="" args="" anyok=""
	case $cmd in
	send)
		opts="-t --help"
		args="-t"
		;;
	dump)
		opts="-c -a -x -l -L -E -o -t -s -n -T --help"
		args="-t -s -n -T"
		anyok=1
		case $prev in
		-t)
			mapfile -t COMPREPLY < <(compgen -W "a A d z" -- "$cur")
			return
			;;
		-s)
			mapfile -t COMPREPLY < <(compgen -W "0 1 2" -- "$cur")
			return
			;;
		esac
		;;
	play)
		opts="-I -l -t -g -s -n -x -k -v --help"
		args="-I -l -g -s -n"
		if [ "$prev" = -I ]; then
			_filedir log
			return
		fi
		if [ "$prev" = -l ]; then
			mapfile -t COMPREPLY < <(compgen -W "i" -- "$cur")
			return
		fi
		# Assignments: write-if=log-if, either side an interface.
		if [[ $cur == *=* ]]; then
			mapfile -t COMPREPLY < <(compgen -P "${cur%%=*}=" -W \
				"$(_canctl_ifaces "$sock")" -- "${cur#*=}")
			return
		fi
		if [[ $cur != -* ]]; then
			mapfile -t COMPREPLY < <(compgen -S = -W \
				"$(_canctl_ifaces "$sock") stdout" -- "$cur")
			compopt -o nospace
			return
		fi
		;;
	gen)
		opts="-g -e -f -b -E -R -m -I -L -D -p -n -i -x -c -v --help"
		args="-g -I -L -D -p -n -c"
		case $prev in
		-I | -L | -D)
			mapfile -t COMPREPLY < <(compgen -W "r i" -- "$cur")
			return
			;;
		esac
		;;
	sniff)
		opts="-q -r -e -b -8 -B -c -t -h -l --help"
		args="-r -t -h -l"
		anyok=1
		;;
	busload)
		opts="-b -t -c -r -i -e -n --help"
		args="-b -n"
		;;
	periodic)
		opts="-p -d --period --duration --help"
		args="-p -d --period --duration"
		;;
	monitor)
		opts="-a -l -R -F -m -t -r -n -x --help --mask --timeout"
		opts+=" --throttle --count --all --check-len --resume --fd"
		opts+=" --rtr-reply"
		args="-m -t -r -n -x --mask --timeout --throttle --count"
		args+=" --rtr-reply"
		;;
	events)
		opts="-n -T --help"
		args="-n -T"
		;;
	set)
		if ((cword > i + 1)); then
			mapfile -t COMPREPLY < <(compgen -W "bitrate sample-point
				dbitrate dsample-point restart-ms loopback listen-only
				triple-sampling one-shot berr-reporting fd presume-ack
				fd-non-iso cc-len8-dlc up down on off" -- "$cur")
			return
		fi
		;;
	state | restart) ;;
	help)
		mapfile -t COMPREPLY < <(compgen -W "list send dump play gen
			sniff busload periodic monitor state set restart events
			clients" -- "$cur")
		return
		;;
	*)
		return
		;;
	esac

	if [[ " $args " == *" $prev "* ]]; then
		return # a value of the user's own
	fi
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
		return
	fi
	mapfile -t COMPREPLY < <(compgen -W "$(_canctl_ifaces "$sock" "$anyok")" -- "$cur")
}

complete -F _canctl canctl
