#!/usr/bin/env bash
# Migration progress does not flood: on a terminal each migration is one line
# updated in place (a drain's make a small table) and a single migration's line
# gives way to its result; elsewhere plain lines, the progress at most one per
# 10 %, and the result printed once.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/migrate.sh"
harness_init
if ! command -v tmux >/dev/null; then
	echo "1..0 # SKIP tmux is not installed"
	exit 0
fi
plan 12

SOCK="$T/tmux.sock"
tm() { tmux -S "$SOCK" "$@"; }
trap 'rc=$?; tm kill-server 2>/dev/null; (exit $rc); harness_cleanup' EXIT

MIG_SCALE=4
harness_start_broker
mig_setup
for h in h1 h2 h3; do mig_start_host "$h" --memory 16384; done
for h in h1 h2 h3; do harness_wait_host "$h" online || echo "# $h not online"; done
vmcc create v1 --host h1 --memory 4096 --vcpus 1 --load 0.5 >/dev/null
ok $? "v1 (4 GiB) runs on h1"

# not a terminal
VMC_TIMEOUT=300 vmcc migrate v1 h2 >"$T/plain.out" 2>&1
ok $? "vmc migrate v1 h2 (output to a file)"
n=$(grep -Ec '^v1: +[0-9]+%' "$T/plain.out")
ok $((n >= 1 && n <= 11 ? 0 : 1)) "progress as plain lines, at most one per 10 % ($n)"
is "$(grep -c 'v1' "$T/plain.out" | tr -d ' ')" "$((n + 2))" \
	"besides them one start line and the result, once"
grep -q '^vm v1 migrated from h1 to h2' "$T/plain.out"
ok $? "the result line"

# on a terminal: run in a tmux pane and read the screen once it ended
run_pane() { # NAME CMD...: runs vmc in a fresh 100x20 pane, waits for it to end
	local name=$1
	shift
	tm new-session -d -s "$name" -x 100 -y 20 \
		"$* ; echo \$? >$T/$name.rc; sleep 600"
	wait_until 120 test -s "$T/$name.rc"
}
screen() { tm capture-pane -p -t "$1" | sed '/^$/d'; }
VMC="$VMC_BIN/vmc --broker $BROKER_URL"
run_pane mig "$VMC migrate v1 h3"
is "$(cat "$T/mig.rc")" 0 "on a terminal: vmc migrate v1 h3 exits 0"
is "$(screen mig)" "$(screen mig | grep '^vm v1 migrated from h2 to h3')" \
	"the screen shows the result line only: the progress line was updated in place, then erased"
screen mig | sed 's/^/# | /'

vmcc create v2 --host h3 --memory 4096 --vcpus 1 --load 0.5 >/dev/null
vmcc create v3 --host h3 --memory 2048 --vcpus 1 --load 0.5 >/dev/null
run_pane drain "$VMC drain h3"
is "$(cat "$T/drain.rc")" 0 "on a terminal: vmc drain h3 exits 0"
s=$(screen drain)
for vm in v1 v2 v3; do
	is "$(grep -c "^$vm: now on h[12]" <<<"$s")" 1 "the drain's table has one line for $vm, ended"
done
is "$(grep -c 'is in maintenance' <<<"$s")" 1 "and the result once"
screen drain | sed 's/^/# | /'
