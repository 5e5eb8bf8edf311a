#!/usr/bin/env bash
# The migration channel against clients that do not play by the rules: a wrong cluster
# key is refused; random bytes, connections that never authenticate, truncated and
# garbled streams close that connection only - the agents keep running, their VMs run
# exactly once, and genuine migrations still work, even during the abuse.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/migrate.sh"
harness_init
plan 19

CC="python3 $(dirname "$0")/../lib/chanclient.py"
harness_start_broker
mig_setup
mig_start_host h1
mig_start_host h2
harness_wait_host h1 online && harness_wait_host h2 online
ok $? "h1 and h2 online"
vmcc create a1 --host h1 --memory 1024 --vcpus 1 --load 0.5 >/dev/null &&
	vmcc create a2 --host h2 --memory 512 --vcpus 1 >/dev/null
ok $? "a1 on h1, a2 on h2"
A1=$(migrate_addr h1)
A2=$(migrate_addr h2)
like "$A1 $A2" "^127\.0\.0\.1:[0-9]+ 127\.0\.0\.1:[0-9]+$" "both publish their migration address"
P1=${HOST_PID[h1]}
P2=${HOST_PID[h2]}

head -c 48 /dev/urandom | base64 >"$T/wrong-key"
is "$($CC "$A2" auth "$T/wrong-key" 2>&1)" "refused: authentication failed: wrong cluster key" \
	"a client with another key is refused"
is "$($CC "$A2" auth "$T/key" 2>&1)" "welcome" "the same client with the cluster key is let in"
grep -q "failed authentication" "$T/host-h2.log"
ok $? "the refusal is logged"

is "$($CC "$A1" random 100000 2>&1)" "closed" "random bytes: the connection is closed"
is "$($CC "$A1" random 5 2>&1)" "closed" "a few random bytes too"

# 40 connections that never authenticate, held on h2 while h1 migrates a1 to h2
$CC "$A2" hold 40 12 >"$T/hold.out" 2>&1 &
HOLD=$!
wait_until 30 grep -q '^holding 40' "$T/hold.out"
out=$(vmcc migrate a1 h2 2>&1)
ok $? "a genuine migration to h2 succeeds while 40 silent connections are held"
wait "$HOLD"
like "$(cat "$T/hold.out")" "closed 40 of 40" "the silent connections were all closed (evicted or timed out)"

ans=$($CC "$A2" truncate "$T/key" ghost1 h2 cut 2>&1)
like "$ans" "accept" "a stream cut short after the offer was accepted"
ans=$($CC "$A2" truncate "$T/key" ghost2 h2 badend 2>&1)
like "$ans" "closed" "an end frame with the wrong byte count closes the connection"
ans=$($CC "$A2" truncate "$T/key" ghost3 h2 junk 2>&1)
like "$ans" "failed|closed" "a stream the driver cannot read fails"
ans=$($CC "$A2" truncate "$T/key" a2 h2 junk 2>&1)
like "$ans" '"refuse".*"exists"' "an offer of a VM the host already has is refused"
ans=$($CC "$A2" truncate "$T/key" ghost4 h9 junk 2>&1)
like "$ans" '"refuse".*this is host h2, not h9' "an offer meant for another host is refused"
no_ghost() { [ "$(host_vms h2 | grep -c ghost)" = 0 ]; }
wait_until 10 no_ghost
ok $? "no half-received VM is left behind"

kill -0 "$P1" && kill -0 "$P2"
ok $? "both agents are still running"
is "$(vm_places a1 h1 h2) $(vm_places a2 h1 h2)" "h2:running h2:running" \
	"a1 and a2 each run exactly once"
vmcc migrate a2 h1 >/dev/null
is "$(vm_places a2 h1 h2)" "h1:running" "and migrations still work"
