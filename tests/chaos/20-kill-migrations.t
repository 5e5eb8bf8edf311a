#!/usr/bin/env bash
# Agents killed with -9 in the middle of migrations: h1 and h2 pass VMs back and forth;
# each migration is cut by kill -9 of its source or its destination (alternately) after
# a random delay, and the victim restarted at once. After each round every VM runs
# exactly once (tests/lib/migrate.sh kill_loop), and at the end of the run both hosts'
# inventories hold each VM once. 200 migrations in the full form, 10 in the short.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/migrate.sh"
. "$(dirname "$0")/lib.sh"
harness_init
plan 6

N=$(chaos_size 10 200)
harness_start_broker
mig_setup
mig_start_host h1
mig_start_host h2
harness_wait_host h1 online && harness_wait_host h2 online
ok $? "h1 and h2 online"
KILL_VMS="k1 k2 k3 k4"
vmcc create k1 --host h1 --memory 2048 --vcpus 1 --load 0.5 >/dev/null &&
	vmcc create k2 --host h1 --memory 1536 --vcpus 1 >/dev/null &&
	vmcc create k3 --host h2 --memory 2048 --vcpus 2 --load 1 >/dev/null &&
	vmcc create k4 --host h2 --memory 512 --vcpus 1 --load 0.2 >/dev/null
ok $? "four VMs"

bad=0 moved=0 stayed=0
for ((done_ = 0; done_ < N; done_ += 5)); do
	# five rounds a side at a time, so that a long run alternates sides
	[ $(((done_ / 5) % 2)) = 0 ] && side=source || side=destination
	kill_loop "$side" 5
	bad=$((bad + KILL_BAD)) moved=$((moved + KILL_MOVED)) stayed=$((stayed + KILL_STAYED))
done
is "$bad" 0 "after each of $N kills and restarts every VM ran exactly once"
diag "migrations that completed: $moved, resumed at the source: $stayed"
is "$((moved + stayed))" "$N" "every round settled"
chaos_census h1 h2 -- $KILL_VMS
is "$CENSUS_LOST" 0 "at the end no VM is lost"
is "$CENSUS_DOUBLED" 0 "and none runs twice"
chaos_report "$N" "$CENSUS_LOST" "$CENSUS_DOUBLED"
