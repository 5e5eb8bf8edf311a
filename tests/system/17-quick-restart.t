#!/usr/bin/env bash
# A host agent restarted right after `kill` comes back: SIGTERM ends it
# promptly, and the new agent waits for the old one to let go of the state
# directory. An agent that holds the directory for good (here: stopped with
# SIGSTOP) is named, pid and all, by the one that cannot start.
. "$(dirname "$0")/../lib/harness.sh"
harness_init
plan 8

harness_start_broker
harness_cluster_key
harness_start_host h1 --cluster-key-file "$T/cluster.key"
harness_wait_host h1 online
ok $? "h1 online"
vmcc create v1 --host h1 --memory 256 --vcpus 1 --load 1 >/dev/null
ok $? "v1 runs on h1 (the agent has published, so it has something to flush at exit)"

# kill, then start again at once on the same state directory
old=${HOST_PID[h1]}
kill -TERM "$old"
harness_start_host h1 --cluster-key-file "$T/cluster.key"
new=${HOST_PID[h1]}
wait "$old" 2>/dev/null
session_2() { vmcc hosts --json | jq -e '.[] | select(.name == "h1" and .state == "online" and .session == 2)'; }
wait_until 30 session_2
ok $? "restarted at once after kill, h1 comes back online (session 2)"
kill -0 "$new" 2>/dev/null
ok $? "and the new agent runs"
like "$(vmcc vms)" "v1 +h1 +running" "with v1 still running"

# an agent frozen while it holds the directory: the next one names it and gives up
kill -STOP "$new"
"$VMC_BIN/vmc-hostd" --driver sim --name h1 --broker "$BROKER_URL" --state-dir "$T/state-h1" \
	>"$T/second.out" 2>&1
rc=$?
kill -CONT "$new"
ok $((rc != 0 ? 0 : 1)) "a second agent on a held state directory exits non-zero"
like "$(cat "$T/second.out")" "held by process $new \(vmc-hostd\).*waiting" "it says whom it waits for"
like "$(cat "$T/second.out")" "in use by process $new \(vmc-hostd\): wait for it to exit" \
	"and, giving up, names the holder and says to wait"
