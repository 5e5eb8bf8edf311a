#!/usr/bin/env bash
# kill -9 of the SOURCE agent at random points of 25 migrations: after it restarts,
# every VM runs exactly once (from both agents' inventories) - resumed at the source if
# the destination had not committed, gone from it if it had. Then the source dies on
# purpose at each step of the commit handshake.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/migrate.sh"
harness_init
plan 8

harness_start_broker
mig_setup
mig_start_host h1
mig_start_host h2
harness_wait_host h1 online && harness_wait_host h2 online
ok $? "h1 and h2 online"
KILL_VMS="k1 k2 k3"
vmcc create k1 --host h1 --memory 2048 --vcpus 1 --load 0.5 >/dev/null &&
	vmcc create k2 --host h1 --memory 1536 --vcpus 1 >/dev/null &&
	vmcc create k3 --host h2 --memory 2048 --vcpus 2 --load 1 >/dev/null
ok $? "three VMs"
kill_loop source "${KILL_ROUNDS:-25}"
is "$KILL_BAD" 0 "after every kill and restart each VM ran exactly once"
diag "migrations that completed: $KILL_MOVED, resumed at the source: $KILL_STAYED"
ok $(((KILL_MOVED + KILL_STAYED) == ${KILL_ROUNDS:-25} ? 0 : 1)) "every round settled"
crash_round k1 src-before-go source
crash_round k2 src-after-go destination
crash_round k3 src-after-done destination
crash_round k1 src-after-src-commit destination
