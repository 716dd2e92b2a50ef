#!/bin/sh
# Starts cand the way cand.service runs it: as the unprivileged user "cand"
# (made from systemd/cand.sysusers when missing) with CAP_NET_ADMIN as its
# only capability, ambient and bounding set alike.
#
#   tests/integ/start-daemon.sh BUILDDIR SOCKET CONFIG [cand options...]
#
# It execs, so the caller's child pid is the daemon's. The socket's
# directory is made and given to "cand". $CAND_DAEMON_WRAPPER (valgrind,
# ...) goes in front of cand; CAND_DAEMON_USER=root runs it as root.
set -eu
BUILD=$1
SOCK=$2
CONF=$3
shift 3
REPO=$(cd "$(dirname "$0")/../.." && pwd)
user=${CAND_DAEMON_USER:-cand}
wrapper=${CAND_DAEMON_WRAPPER:-}

if [ "$user" = root ]; then
	# shellcheck disable=SC2086 # the wrapper is a command prefix
	exec $wrapper "$BUILD/cand" -f -s "$SOCK" -c "$CONF" "$@"
fi
if ! id "$user" >/dev/null 2>&1; then
	systemd-sysusers "$REPO/systemd/cand.sysusers" >/dev/null 2>&1 ||
		{ echo "start-daemon.sh: cannot create user $user" >&2; exit 125; }
fi
dir=$(dirname "$SOCK")
mkdir -p "$dir"
chown "$user" "$dir"
# shellcheck disable=SC2086
exec setpriv --reuid="$user" --regid="$user" --init-groups \
	--inh-caps=-all,+net_admin --ambient-caps=-all,+net_admin \
	--bounding-set=-all,+net_admin -- $wrapper "$BUILD/cand" -f -s "$SOCK" -c "$CONF" "$@"
