#!/usr/bin/env bash
# 06-broker-errors.t - connection and permission errors fail fast, with the
# real reason and a documented exit status (vmc(1): 4 the broker cannot be
# reached, 5 the broker refused the credentials or a publish), and vmc-hostd
# and vmtop-cluster -b say why they cannot reach the broker. The production
# broker (broker-conf/mosquitto-prod.conf, made by vmc-broker-setup) is real.
# Every vmc runs with --timeout 60: a failure that waited for it would end in
# "no reply" or "cannot reach ... within 60 s" instead of the reason.
. "$(dirname "$0")/../lib/harness.sh"
# shellcheck source=tests/lib/tls.sh
. "$HARNESS_ROOT/tests/lib/tls.sh"
harness_init
plan 21

D=$T/broker
"$HARNESS_ROOT/scripts/vmc-broker-setup" -o "$D" --hosts h1 --admins admin --viewers watcher \
	>"$T/setup.out" 2>&1 || { echo "Bail out! vmc-broker-setup failed"; exit 1; }
tls_start_prod_broker "$D" || { echo "Bail out! the production broker did not start"; exit 1; }
BROKER_PID=$TLS_BROKER_PID # harness_cleanup stops it
TLS_URL="mqtts://127.0.0.1:$TLS_PORT"
pw() { echo "$D/agents/$1.pass"; }
v() { "$VMC_BIN/vmc" --timeout 60 "$@"; }

# check DESC WANT-RC REGEX ARGS...: vmc ARGS exits WANT-RC saying REGEX
check() {
	local what=$1 want=$2 re=$3 out rc
	shift 3
	out=$(v "$@" 2>&1)
	rc=$?
	is "$rc" "$want" "$what: exit $want"
	like "$out" "$re" "$what: $re"
}

free=$(harness_free_port)
check "a refused connection" 4 "cannot connect to the broker at 127.0.0.1:$free: Connection refused" \
	--broker "mqtt://127.0.0.1:$free" hosts
if unshare -rn true 2>/dev/null; then
	# in a network namespace of its own: the name lookup fails without asking anyone
	out=$(unshare -rn "$VMC_BIN/vmc" --timeout 60 --broker mqtt://nosuch.invalid:1883 hosts 2>&1)
	is "$?" 4 "an unknown broker host name: exit 4"
	like "$out" "cannot resolve the broker's host name nosuch.invalid: " \
		"an unknown broker host name: says getaddrinfo's reason"
else
	ok 0 "# SKIP unshare -rn is not allowed here"
	ok 0 "# SKIP unshare -rn is not allowed here"
fi
check "the TLS port dialled with mqtt://" 4 "closed the connection before answering.*mqtts://" \
	--broker "mqtt://127.0.0.1:$TLS_PORT" hosts
echo wrong-password >"$T/wrong.pass"
check "a wrong password" 5 "refused the connection: .*(password|authori).*CONNACK code" \
	--broker "$TLS_URL" --cafile "$D/ca.crt" --user admin --password-file "$T/wrong.pass" hosts
check "no user name where one is needed" 5 "refused the connection \(no user name given\)" \
	--broker "$TLS_URL" --cafile "$D/ca.crt" hosts

# a read-only user: reading works, a command is refused at once with MQTT 5's reason
check "a viewer lists the hosts" 0 "NAME" --broker "$TLS_URL" --cafile "$D/ca.crt" \
	--user watcher --password-file "$(pw watcher)" hosts
check "a viewer's command" 5 \
	"refused the publish to vmc/default/cmd/confd: Not authorized \(MQTT reason code 135\)" \
	--broker "$TLS_URL" --cafile "$D/ca.crt" --user watcher --password-file "$(pw watcher)" \
	call cmd/confd template.list
check "the admin's command is sent (no confd: no reply)" 3 "no reply to template.list" \
	--timeout 1 --broker "$TLS_URL" --cafile "$D/ca.crt" --user admin \
	--password-file "$(pw admin)" call cmd/confd template.list

# vmc-hostd without a broker says why at once, and again at each retry
"$VMC_BIN/vmc-hostd" --driver sim --name h9 --broker "mqtt://127.0.0.1:$free" \
	--state-dir "$T/state-h9" >"$T/host-h9.log" 2>&1 &
HOST_PID[h9]=$!
retries() { [ "$(grep -c "cannot connect to the broker at 127.0.0.1:$free: Connection refused; trying again in" "$T/host-h9.log")" -ge "$1" ]; }
wait_until 30 retries 1
ok $? "vmc-hostd logs why it cannot reach the broker"
wait_until 30 retries 3
ok $? "and again at each retry"
harness_kill_host h9

# vmtop-cluster -b without a broker: the reason and exit 3, no empty snapshot
"$VMC_BIN/vmtop-cluster" -b -i 1 --broker "mqtt://127.0.0.1:$free" >"$T/vmtop.out" 2>"$T/vmtop.err"
is "$?" 3 "vmtop-cluster -b without a broker: exit 3"
like "$(cat "$T/vmtop.err")" "Connection refused" "vmtop-cluster -b says why"
is "$(cat "$T/vmtop.out")" "" "and prints no snapshot"
