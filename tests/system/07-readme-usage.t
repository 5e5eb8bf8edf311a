#!/usr/bin/env bash
# The README's Usage works as written for a new user: the programs are on the
# PATH (or run from bin/), /etc/vmcluster is made before the key is written,
# the key is made 0600 and the agent warns about a key others can read, the
# broker runs in the background with a log file, every manual page is listed,
# and the mosquitto_pub recipe subscribes to the reply topic first (run here
# against a private broker).
. "$(dirname "$0")/../lib/harness.sh"
harness_init
plan 11

R=$HARNESS_ROOT/README
usage=$(sed -n '/^Usage$/,/^Layout$/p' "$R")
like "$usage" 'export PATH=\$PWD/bin:\$PATH' "Usage puts bin/ on the PATH before running anything"
line() { grep -n -- "$1" <<<"$usage" | head -1 | cut -d: -f1; }
mk=$(line 'install -d .*/etc/vmcluster$')
key=$(line '> /etc/vmcluster/cluster.key')
ok $((${mk:-0} > 0 && ${key:-0} > ${mk:-0} ? 0 : 1)) "/etc/vmcluster is made before the key is written"
like "$usage" 'umask 077; head -c 48 /dev/urandom' "the key is made mode 0600"
like "$usage" 'mosquitto -c /tmp/m.conf > /tmp/mosquitto.log 2>&1 &' "the broker runs in the background, logging to a file"
sub=$(line 'mosquitto_sub .*reply/myscript')
pub=$(line 'mosquitto_pub .*cmd/host/h1')
ok $((${sub:-0} > 0 && ${pub:-0} > ${sub:-0} ? 0 : 1)) "the recipe subscribes to the reply topic before publishing"
missing=""
for m in "$HARNESS_ROOT"/man/*.[0-9]; do
	grep -q "man -l man/$(basename "$m")" "$R" || missing="$missing $(basename "$m")"
done
is "$missing" "" "every manual page is listed"

# the agent and the key's mode
harness_start_broker
(umask 022; head -c 48 /dev/urandom | base64 >"$T/open.key")
harness_start_host h1 --cluster-key-file "$T/open.key"
harness_wait_host h1 online
ok $? "h1 online"
grep -q "cluster key file $T/open.key is open to every user (mode 0644).*chmod 600" "$T/host-h1.log"
ok $? "the agent warns about a key file every user can read"
(umask 077; head -c 48 /dev/urandom | base64 >"$T/closed.key")
harness_start_host h2 --cluster-key-file "$T/closed.key"
harness_wait_host h2 online
grep -q "cluster key file" "$T/host-h2.log"
ok $((! $?)) "and not about one mode 0600"

# the recipe, as the README gives it, on the private broker
cd "$T" || exit 1
mosquitto_sub -p "$BROKER_PORT" -q 1 -C 1 -t vmc/default/reply/myscript >reply.json &
subpid=$!
sent() {
	mosquitto_pub -p "$BROKER_PORT" -q 1 -t vmc/default/cmd/host/h1 \
		-m '{"id":"job-17","op":"vm.create","args":{"name":"web2","memory_mb":512,"vcpus":1},"reply_to":"vmc/default/reply/myscript"}'
	[ -s reply.json ]
}
wait_until 20 sent # published again (same id: done once) until the subscription is in place
wait "$subpid"
is "$(jq -r '"\(.id) \(.ok)"' reply.json)" "job-17 true" "the recipe's reply arrives"
like "$(vmcc vms)" "web2 +h1 +running" "and web2 runs"
