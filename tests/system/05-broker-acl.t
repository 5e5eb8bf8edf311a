#!/usr/bin/env bash
# 05-broker-acl.t - the production broker: broker-conf/mosquitto-prod.conf with
# what vmc-broker-setup makes (CA, certificates, passwords, ACL), run by a real
# Mosquitto on a free loopback port. Proves that clients need TLS and a
# password, that a host's credentials write only its own subtree and send no
# command, that guests and the config agent stay in their lanes, that admins
# command hosts, and that vmc-hostd connects over TLS.
#
# A publish denied by the ACL is acknowledged and dropped on MQTT 3.1.1, so
# denials are proven by absence: the forbidden messages are published first,
# then an allowed marker by the same credentials; once the marker reaches the
# watching subscriber, anything published before it would have arrived too.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/lib/tls.sh
source "$ROOT/tests/lib/tls.sh"
VMC_BIN=${VMC_BIN:-$ROOT/bin}
C=vmc/default

T=$(mktemp -d "${TMPDIR:-/tmp}/vmc-t05.XXXXXX")
D=$T/broker
PIDS=()
n=0
failed=0

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	tls_stop_broker
	if [ "$failed" -eq 0 ]; then
		rm -rf "$T"
	else
		echo "# logs kept in $T (broker log: $D/log/mosquitto.log)"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---- TAP ---------------------------------------------------------------------
pass() {
	n=$((n + 1))
	echo "ok $n - $1"
}
fail() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	[ $# -eq 0 ] || printf '%s\n' "$@" | sed 's/^/#   /'
}
skip() {
	n=$((n + 1))
	echo "ok $n # SKIP $1"
}
bail() {
	failed=$((failed + 1))
	echo "Bail out! $1"
	exit 1
}

# ---- clients -----------------------------------------------------------------
pwfile() { echo "$D/agents/$1.pass"; }
# pub USER TOPIC PAYLOAD [mosquitto_pub options...]: publishes at QoS 1 over TLS
# as USER; stderr goes to $T/pub.err. Returns mosquitto_pub's status.
pub() {
	local user=$1 topic=$2 payload=$3
	shift 3
	timeout 20 mosquitto_pub -h 127.0.0.1 -p "$TLS_PORT" --cafile "$D/ca.crt" \
		-u "$user" -P "$(cat "$(pwfile "$user")")" -q 1 -t "$topic" -m "$payload" "$@" \
		2>"$T/pub.err"
}
# sub_start USER OUT TOPIC...: a background subscriber as USER printing
# "topic payload" lines into OUT.
sub_start() {
	local user=$1 out=$2 args=() t
	shift 2
	for t in "$@"; do args+=(-t "$t"); done
	: >"$out"
	mosquitto_sub -h 127.0.0.1 -p "$TLS_PORT" --cafile "$D/ca.crt" -u "$user" \
		-P "$(cat "$(pwfile "$user")")" -q 1 -v "${args[@]}" >"$out" 2>"$out.err" &
	PIDS+=($!)
}
# seen OUT TEXT: TEXT is a line of OUT
seen() { grep -qxF -- "$2" "$1"; }
# wait_seen OUT TEXT: waits (at most 20 s, a deadline for failure only) for TEXT.
wait_seen() {
	local i
	for i in $(seq 1 400); do
		seen "$1" "$2" && return 0
		sleep 0.05
	done
	return 1
}
# sync_sub PUBUSER OUT TOPIC: publishes "sync-N" on TOPIC as PUBUSER until the
# subscriber writing OUT shows one: it is subscribed from then on.
sync_sub() {
	local i
	for i in $(seq 1 40); do
		pub "$1" "$3" "sync-$i" >/dev/null
		wait_seen_short "$2" "$3 sync-$i" && return 0
	done
	return 1
}
wait_seen_short() {
	local i
	for i in $(seq 1 10); do
		seen "$1" "$2" && return 0
		sleep 0.05
	done
	return 1
}

# ---- set-up --------------------------------------------------------------------
{ command -v mosquitto && command -v mosquitto_pub; } >/dev/null ||
	bail "mosquitto and mosquitto-clients are not installed"

# Bad names are refused before anything is written.
for bad in '../x' 'a b' '$(reboot)' '-h1' "$(printf 'x%.0s' $(seq 1 65))" 'h1:x'; do
	if "$ROOT/scripts/vmc-broker-setup" -o "$T/bad" --hosts "h1,$bad" >"$T/setup-bad.out" 2>&1; then
		fail "vmc-broker-setup refuses the host name '$bad'" "it exited 0"
	elif [ -e "$T/bad" ]; then
		fail "vmc-broker-setup refuses the host name '$bad'" "but it made $T/bad"
	elif ! grep -qF -- "\"$bad\"" "$T/setup-bad.out"; then
		fail "vmc-broker-setup refuses the host name '$bad'" "its message does not name it:" \
			"$(cat "$T/setup-bad.out")"
	else
		pass "vmc-broker-setup refuses the host name '${bad:0:20}'"
	fi
done
if "$ROOT/scripts/vmc-broker-setup" -o "$T/bad" --hosts h1 --guests h1 >"$T/setup-bad.out" 2>&1; then
	fail "vmc-broker-setup refuses a name given to two roles"
else
	pass "vmc-broker-setup refuses a name given to two roles"
fi

if "$ROOT/scripts/vmc-broker-setup" -o "$D" --hosts h1,h2 --guests g1,g2 --admins admin \
	--confd confd --viewers viewer1 >"$T/setup.out" 2>&1; then
	pass "vmc-broker-setup makes the CA, certificates, passwords and ACL"
else
	fail "vmc-broker-setup makes the CA, certificates, passwords and ACL" "$(cat "$T/setup.out")"
	bail "no broker files"
fi
modes=$(stat -c '%a %n' "$D"/agents/*.pass "$D/ca.key" | grep -v '^600 ' || true)
if [ -z "$modes" ]; then
	pass "password files and the CA key are mode 0600"
else
	fail "password files and the CA key are mode 0600" "$modes"
fi
# Run again: the CA and the passwords stay.
cp "$D/ca.crt" "$T/ca.before"
cp "$D/agents/h1.pass" "$T/h1.before"
"$ROOT/scripts/vmc-broker-setup" -o "$D" --hosts h1,h2 --guests g1,g2 --admins admin \
	--confd confd --viewers viewer1 >"$T/setup2.out" 2>&1
if cmp -s "$D/ca.crt" "$T/ca.before" && cmp -s "$D/agents/h1.pass" "$T/h1.before"; then
	pass "running vmc-broker-setup again keeps the CA and the passwords"
else
	fail "running vmc-broker-setup again keeps the CA and the passwords"
fi

tls_start_prod_broker "$D" || bail "the production broker did not start"
pass "mosquitto runs broker-conf/mosquitto-prod.conf on 127.0.0.1:$TLS_PORT"

# ---- (a) TLS and a password are required ---------------------------------------
try_connect() { # description expect(ok|refused) mosquitto_pub args...
	local what=$1 expect=$2 rc
	shift 2
	timeout 20 mosquitto_pub -h 127.0.0.1 -p "$TLS_PORT" -q 1 -t "$C/host/h1/probe" -m x "$@" \
		>"$T/conn.out" 2>&1
	rc=$?
	if [ "$expect" = refused ] && [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then
		pass "$what is refused"
	elif [ "$expect" = refused ]; then
		fail "$what is refused" "mosquitto_pub exited $rc" "$(cat "$T/conn.out")"
	elif [ "$rc" -eq 0 ]; then
		pass "$what connects"
	else
		fail "$what connects" "mosquitto_pub exited $rc" "$(cat "$T/conn.out")"
	fi
}
h1pw=$(cat "$(pwfile h1)")
try_connect "a client without TLS (right password)" refused -u h1 -P "$h1pw"
try_connect "a TLS client without a username" refused --cafile "$D/ca.crt"
try_connect "a TLS client with h1 and h2's password" refused --cafile "$D/ca.crt" \
	-u h1 -P "$(cat "$(pwfile h2)")"
try_connect "a TLS client with an unknown user" refused --cafile "$D/ca.crt" -u h3 -P "$h1pw"
"$ROOT/scripts/vmc-broker-setup" -o "$T/other" --hosts h1 >/dev/null 2>&1
try_connect "a client trusting another CA" refused --cafile "$T/other/ca.crt" -u h1 -P "$h1pw"
try_connect "h1 over TLS with its password, MQTT 3.1.1" ok --cafile "$D/ca.crt" -u h1 \
	-P "$h1pw" -V mqttv311
try_connect "h1 over TLS with its password, MQTT 5" ok --cafile "$D/ca.crt" -u h1 \
	-P "$h1pw" -V 5
try_connect "h1 over TLS by the name localhost" ok --cafile "$D/ca.crt" -u h1 -P "$h1pw" \
	-h localhost

# ---- (b), (c): what each role may publish, watched by an admin -----------------
W=$T/admin.sub
sub_start admin "$W" 'vmc/#'
sync_sub admin "$W" "$C/test/sync" || bail "the admin subscriber never saw its own message"

# allowed USER TOPIC: USER's publish on TOPIC reaches the admin.
allowed() {
	local payload="allowed-$1-$RANDOM$RANDOM"
	if ! pub "$1" "$2" "$payload"; then
		fail "$1 may publish $2" "mosquitto_pub failed: $(cat "$T/pub.err")"
	elif wait_seen "$W" "$2 $payload"; then
		pass "$1 may publish $2"
	else
		fail "$1 may publish $2" "the admin subscriber never saw it"
	fi
}
# denied USER MARKER-TOPIC TOPIC...: USER publishes to each TOPIC with MQTT 3.1.1
# (one retained) and with MQTT 5, then a marker on MARKER-TOPIC (as $MARKER_USER if
# set: a viewer can publish no marker); none arrives before the marker, and MQTT 5
# reports "not authorized" for each.
denied() {
	local user=$1 marker=$2 t tag out v5msg
	shift 2
	tag="$user-$RANDOM$RANDOM"
	v5msg=()
	for t in "$@"; do
		pub "$user" "$t" "forged-311-$tag" -V mqttv311 -r
		pub "$user" "$t" "forged-5-$tag" -V 5
		grep -qi 'not authori' "$T/pub.err" || v5msg+=("$t")
	done
	pub "${MARKER_USER:-$user}" "$marker" "marker-$tag"
	if ! wait_seen "$W" "$marker marker-$tag"; then
		fail "$user cannot publish to $*" "the marker on $marker never arrived"
		return
	fi
	out=$(grep -F -- "-$tag" "$W" | grep -v " marker-$tag\$")
	if [ -n "$out" ]; then
		fail "$user cannot publish to $*" "the admin received:" "$out"
	else
		pass "$user cannot publish to $* (MQTT 3.1.1 and 5)"
	fi
	if [ ${#v5msg[@]} -eq 0 ]; then
		pass "$user's denied MQTT 5 publishes get reason 135 (not authorized)"
	else
		fail "$user's denied MQTT 5 publishes get reason 135 (not authorized)" \
			"no refusal reported for: ${v5msg[*]}"
	fi
}

# host h1: every topic it writes names it: its subtree (state, load, the records of
# its VMs), its events, its balancing messages, its peer requests; and replies
allowed h1 "$C/host/h1/state"
allowed h1 "$C/host/h1/load"
allowed h1 "$C/host/h1/vm/web1"
allowed h1 "$C/event/host/h1"
allowed h1 "$C/reply/vmc-test"
allowed h1 "$C/reply/host/h2"
for k in help offer accept release; do allowed h1 "$C/balance/$k/h1"; done
allowed h1 "$C/balance/peer/h2/h1"
denied h1 "$C/host/h1/state" \
	"$C/host/h2/state" "$C/host/h2/load" "$C/host/h2" "$C/host/h2/vm/web1" "$C/vm/web1" \
	"$C/event" "$C/event/host/h2" "$C/event/confd" \
	"$C/balance/help" "$C/balance/help/h2" "$C/balance/offer/h2" "$C/balance/accept/h2" \
	"$C/balance/release/h2" "$C/balance/peer/h2" "$C/balance/peer/h2/h2" \
	"$C/balance/peer/h1/h2" \
	"$C/cmd/host/h2" "$C/cmd/host/h1" "$C/cmd/confd" "$C/cmd/x/y" \
	"$C/policy" "$C/guest/g1/load" "$C/guest/h1/load" \
	"vmc/other/host/h2/state" "vmc/other/cmd/host/h2"

# guest g1: guest/g1/... only
allowed g1 "$C/guest/g1/load"
allowed g1 "$C/guest/g1/state"
denied g1 "$C/guest/g1/load" \
	"$C/guest/g2/load" "$C/host/g1/state" "$C/host/h1/state" "$C/cmd/host/h1" \
	"$C/host/h1/vm/web1" "$C/event" "$C/event/guest/g1" "$C/event/host/h1" \
	"$C/reply/vmc-test" "$C/reply/host/h1" "$C/balance/help/g1" "$C/balance/peer/h1/g1" \
	"$C/policy"

# the configuration agent: commands to hosts, replies, events
allowed confd "$C/cmd/host/h1"
allowed confd "$C/reply/vmc-test"
allowed confd "$C/event/confd"
allowed confd "$C/confd/confd/state"
denied confd "$C/event/confd" \
	"$C/event" "$C/event/host/h1" "$C/host/confd/state" "$C/host/h1/state" \
	"$C/host/h1/vm/web1" "$C/policy" "$C/cmd/confd" "$C/guest/g1/load" \
	"$C/balance/help/confd" "$C/balance/peer/h1/confd" "$C/confd/other/state"

# viewers: nothing at all
MARKER_USER=admin denied viewer1 "$C/test/viewer-marker" \
	"$C/cmd/host/h1" "$C/policy" "$C/reply/vmc-test" "$C/event/viewer1" \
	"$C/host/viewer1/state"

# admins: commands and policy
allowed admin "$C/cmd/host/h2"
allowed admin "$C/cmd/confd"
allowed admin "$C/policy"

# A Last Will is checked like any publish when the broker sends it: h1 cannot
# have h2 declared offline. Two h1 connections die with kill -9, one whose Will
# is on host/h2/state, then one whose Will is on its own host/h1/state.
tag=$RANDOM$RANDOM
will_client() { # client-id will-topic payload
	mosquitto_sub -h 127.0.0.1 -p "$TLS_PORT" --cafile "$D/ca.crt" -u h1 -P "$h1pw" -i "$1" \
		--will-topic "$2" --will-payload "$3" --will-retain -q 1 -v -t "$C/host/h1/will-$1" \
		>"$T/will-$1.out" 2>&1 &
	WILL_PID=$!
	PIDS+=("$WILL_PID")
	sync_sub admin "$T/will-$1.out" "$C/host/h1/will-$1" || bail "will client $1 never connected"
}
will_client forge-$tag "$C/host/h2/state" "forged-will-$tag"
forge_pid=$WILL_PID
will_client own-$tag "$C/host/h1/state" "own-will-$tag"
own_pid=$WILL_PID
{ kill -9 "$forge_pid"; wait "$forge_pid"; } 2>/dev/null
for i in $(seq 1 400); do
	grep -q "Client forge-$tag closed its connection\|Client forge-$tag disconnected" \
		"$D/log/mosquitto.log" && break
	sleep 0.05
done
{ kill -9 "$own_pid"; wait "$own_pid"; } 2>/dev/null
if ! wait_seen "$W" "$C/host/h1/state own-will-$tag"; then
	fail "h1's Last Will on its own state is delivered" "$(tail -n 5 "$D/log/mosquitto.log")"
else
	pass "h1's Last Will on its own state is delivered"
	if seen "$W" "$C/host/h2/state forged-will-$tag"; then
		fail "h1 cannot forge h2's Last Will (host/h2/state)"
	else
		pass "h1 cannot forge h2's Last Will (host/h2/state)"
	fi
fi

# ---- (d) an admin commands h1; h1 reads only its own commands ------------------
H=$T/h1.sub
sub_start h1 "$H" "$C/cmd/#" "$C/reply/#" "$C/guest/#" "$C/host/#"
sync_sub admin "$H" "$C/cmd/host/h1" || bail "h1's subscriber never saw a command to h1"
tag=$RANDOM$RANDOM
pub admin "$C/cmd/host/h2" "for-h2-$tag"
pub admin "$C/cmd/confd" "for-confd-$tag"
pub admin "$C/reply/vmc-test" "reply-$tag"
pub admin "$C/reply/host/h2" "reply-h2-$tag"
pub h2 "$C/reply/host/h1" "reply-h1-$tag"
pub g1 "$C/guest/g1/load" "guest-$tag"
pub h2 "$C/host/h2/load" "peer-$tag"
pub admin "$C/cmd/host/h1" "for-h1-$tag"
if wait_seen "$H" "$C/cmd/host/h1 for-h1-$tag"; then
	pass "an admin's command on cmd/host/h1 reaches h1"
else
	fail "an admin's command on cmd/host/h1 reaches h1"
fi
if seen "$H" "$C/guest/g1/load guest-$tag" && seen "$H" "$C/host/h2/load peer-$tag"; then
	pass "h1 reads guests' figures and its peers' host topics"
else
	fail "h1 reads guests' figures and its peers' host topics" "$(cat "$H")"
fi
if seen "$H" "$C/reply/host/h1 reply-h1-$tag"; then
	pass "h1 reads the replies to its peer requests (reply/host/h1, written by h2)"
else
	fail "h1 reads the replies to its peer requests (reply/host/h1, written by h2)" "$(cat "$H")"
fi
out=$(grep -E -- "-$tag\$" "$H" | grep -vE "(for-h1|guest|peer|reply-h1)-$tag\$")
if [ -z "$out" ]; then
	pass "h1 cannot read commands to h2 or confd, nor replies to clients or to h2"
else
	fail "h1 cannot read commands to h2 or confd, nor replies to clients or to h2" \
		"h1 received:" "$out"
fi

# peer requests: h1 asks h2 on balance/peer/h2/h1 (hosts may not write cmd/#); only
# h2 reads them
P=$T/h2-peer.sub
sub_start h2 "$P" "$C/balance/peer/h2/+"
if sync_sub h1 "$P" "$C/balance/peer/h2/h1"; then
	pass "h1's request on balance/peer/h2/h1 reaches h2"
else
	fail "h1's request on balance/peer/h2/h1 reaches h2" "$(cat "$P.err")"
fi

# what each role reads: balancing messages and events go to every host; a peer
# request only to the host asked; a reply only to its owner (confd reads
# reply/confd-<name>, viewers and guests no reply at all)
X=$T/h1-read.sub
sub_start h1 "$X" "$C/balance/#" "$C/event/#" "$C/host/+/vm/+"
Y=$T/confd-read.sub
sub_start confd "$Y" "$C/reply/#" "$C/event/#"
V=$T/viewer-read.sub
sub_start viewer1 "$V" "$C/reply/#" "$C/event/#"
G=$T/guest-read.sub
sub_start g1 "$G" "vmc/#"
sync_sub h2 "$X" "$C/event/host/h2" || bail "h1's reader never synced"
sync_sub admin "$Y" "$C/reply/confd-confd" || bail "confd's reader never synced"
sync_sub confd "$V" "$C/event/confd" || bail "the viewer's reader never synced"
tag=$RANDOM$RANDOM
pub h2 "$C/balance/help/h2" "help-$tag"
pub h2 "$C/host/h2/vm/web2" "rec-$tag"
pub h2 "$C/balance/peer/g1/h2" "peer-g1-$tag"
pub admin "$C/balance/peer/h2/admin" "peer-h2-$tag"
pub h2 "$C/reply/vmc-test" "reply-admin-$tag"
pub h2 "$C/reply/confd-confd" "reply-confd-$tag"
pub h2 "$C/event/host/h2" "end-$tag"
wait_seen "$X" "$C/event/host/h2 end-$tag" && wait_seen "$Y" "$C/reply/confd-confd reply-confd-$tag"
if seen "$X" "$C/balance/help/h2 help-$tag" && seen "$X" "$C/host/h2/vm/web2 rec-$tag"; then
	pass "h1 reads h2's balancing messages, events and VM records"
else
	fail "h1 reads h2's balancing messages, events and VM records" "$(cat "$X")"
fi
out=$(grep -E -- "peer-(g1|h2)-$tag" "$X")
if [ -z "$out" ]; then
	pass "h1 reads no peer request addressed to another host"
else
	fail "h1 reads no peer request addressed to another host" "$out"
fi
if grep -q -- "reply-admin-$tag" "$Y"; then
	fail "confd reads only its own replies (reply/confd-confd)" "$(cat "$Y")"
else
	pass "confd reads only its own replies (reply/confd-confd)"
fi
wait_seen "$V" "$C/event/host/h2 end-$tag"
if grep -q -- "reply-" "$V"; then
	fail "a viewer reads no reply" "$(cat "$V")"
else
	pass "a viewer reads no reply"
fi
# a guest reads nothing: by now the others have read everything published above
if [ -s "$G" ]; then
	fail "a guest reads nothing" "$(cat "$G")"
else
	pass "a guest reads nothing"
fi

# Nothing forged was retained: a fresh admin subscriber gets h2's retained state
# (none was ever published legitimately) as nothing at all.
R=$T/retained.sub
sub_start admin "$R" "$C/host/h2/#" "$C/cmd/#" "$C/policy" "$C/test/sync2"
sync_sub admin "$R" "$C/test/sync2" || bail "the retained-check subscriber never synced"
out=$(grep -F forged "$R")
if [ -z "$out" ]; then
	pass "no denied retained publish was stored"
else
	fail "no denied retained publish was stored" "$out"
fi

# ---- (e) vmc-hostd over TLS ----------------------------------------------------
if [ ! -x "$VMC_BIN/vmc-hostd" ]; then
	skip "vmc-hostd over TLS ($VMC_BIN/vmc-hostd is not built)"
else
	S=$T/state.sub
	sub_start admin "$S" "$C/host/h1/state"
	"$VMC_BIN/vmc-hostd" --driver sim --name h1 --broker "mqtts://127.0.0.1:$TLS_PORT" \
		--cafile "$D/ca.crt" --user h1 --password-file "$(pwfile h1)" \
		--state-dir "$T/h1-state" >"$T/hostd.log" 2>&1 &
	PIDS+=($!)
	ok=0
	for i in $(seq 1 400); do
		if grep -qE "^$C/host/h1/state .*\"state\" *: *\"online\"" "$S"; then
			ok=1
			break
		fi
		sleep 0.05
	done
	if [ "$ok" = 1 ]; then
		pass "vmc-hostd connects over TLS as h1 and its state is online"
	else
		fail "vmc-hostd connects over TLS as h1 and its state is online" \
			"admin saw: $(cat "$S")" "hostd log: $(tail -n 5 "$T/hostd.log")"
	fi
fi

echo "1..$n"
[ "$failed" -eq 0 ]
