#!/usr/bin/env bash
# The migration channel with host certificates (vmc-broker-setup issues one per host):
# migrations work without any cluster key; each end is the host its certificate names,
# so a genuine host of the cluster cannot pose as another - neither by saying another
# name nor by offering a VM in another host's name - and certificates of another CA,
# the cluster key alone, or a certificate for another name at start-up are refused.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/migrate.sh"
harness_init
plan 14

CC="python3 $(dirname "$0")/../lib/chanclient.py"
P=$T/pki
"$HARNESS_ROOT/scripts/vmc-broker-setup" -o "$P" --hosts h1,h2,h3 >"$T/setup.log" 2>&1 &&
	"$HARNESS_ROOT/scripts/vmc-broker-setup" -o "$T/other" --hosts h1 >>"$T/setup.log" 2>&1
ok $? "vmc-broker-setup issued host certificates (and another cluster's)"
cert_args() { # HOST [DIR]
	local d=${2:-$P}
	echo --channel-cert "$d/agents/$1.crt" --channel-key "$d/agents/$1.key" --channel-ca "$d/ca.crt"
}
harness_start_broker
harness_start_host h1 --time-scale "$MIG_SCALE" $(cert_args h1)
harness_start_host h2 --time-scale "$MIG_SCALE" $(cert_args h2)
harness_wait_host h1 online && harness_wait_host h2 online
ok $? "h1 and h2 online with certificates and no cluster key"
grep -q "TLS 1.3, host certificates" "$T/host-h1.log"
ok $? "the channel says it uses the host certificates"

vmcc create c1 --host h1 --memory 1024 --vcpus 1 --load 0.5 >/dev/null &&
	vmcc create c2 --host h2 --memory 512 --vcpus 1 >/dev/null
ok $? "c1 on h1, c2 on h2"
vmcc migrate c1 h2 >/dev/null
is "$(vm_places c1 h1 h2)" "h2:running" "c1 migrates from h1 to h2"
A2=$(migrate_addr h2)

out=$($CC "$A2" cert "$P/agents/h3.crt" "$P/agents/h3.key" "$P/ca.crt" h3 h3 ghost1 2>&1)
like "$out" '^welcome; answer:.*"accept"' "h3 with its own certificate is a genuine peer"
out=$($CC "$A2" cert "$P/agents/h3.crt" "$P/agents/h3.key" "$P/ca.crt" h1 h1 ghost2 2>&1)
like "$out" "refused: .*does not name host h1" "h3 saying it is h1 is refused"
out=$($CC "$A2" cert "$P/agents/h3.crt" "$P/agents/h3.key" "$P/ca.crt" h3 h1 ghost3 2>&1)
like "$out" "refuse.*from h1, but this connection is from host h3" \
	"h3 offering a VM in h1's name is refused"
out=$($CC "$A2" cert "$T/other/agents/h1.crt" "$T/other/agents/h1.key" "$P/ca.crt" h1 h1 ghost4 2>&1)
like "$out" "^refused: TLS" "a certificate of another CA is refused"
head -c 48 /dev/urandom | base64 >"$T/key"
like "$($CC "$A2" auth "$T/key" 2>&1)" "^refused:" "a client with only a cluster key is refused"

"$VMC_BIN/vmc-hostd" --driver sim --name h9 --broker "$BROKER_URL" --state-dir "$T/state-h9" \
	$(cert_args h3) >"$T/h9.out" 2>&1
rc=$?
ok $((rc != 0 ? 0 : 1)) "an agent whose certificate names another host does not start"
like "$(cat "$T/h9.out")" "does not name host h9" "and says why"

sleep 1
is "$(host_vms h2 | grep -c ghost)" 0 "no offered VM was left behind"
vmcc migrate c2 h1 >/dev/null
is "$(vm_places c1 h1 h2) $(vm_places c2 h1 h2)" "h2:running h1:running" \
	"migrations still work, each VM runs once"
