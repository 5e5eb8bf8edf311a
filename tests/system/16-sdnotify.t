#!/usr/bin/env bash
# The agents under systemd: READY=1 once on the broker, WATCHDOG=1 keep-alives only when
# WATCHDOG_USEC asks for them, RELOADING=1/READY=1 around SIGHUP, STOPPING=1 at the end.
# SIGHUP reloads vmc-hostd's rules file (a broken one is refused and the rules in force
# stay) and checks vmc-confd's templates, without leaving the broker. The notification
# socket is played by tests/lib/sdnotify-listen.py.
. "$(dirname "$0")/../lib/harness.sh"
harness_init
plan 21

listen() { # NAME: a notification socket $T/notify-NAME, logged to $T/notify-NAME.log
	python3 "$HARNESS_ROOT/tests/lib/sdnotify-listen.py" "$T/notify-$1" "$T/notify-$1.log" \
		>>"$T/listener.log" 2>&1 &
	HOST_PID[listen-$1]=$!
	wait_until 5 test -S "$T/notify-$1"
}
count() { grep -c "$2" "$T/notify-$1.log" 2>/dev/null || true; } # NAME REGEX
has() { [ "$(count "$1" "$2")" -ge "${3:-1}" ]; }                # NAME REGEX [N]
high() { vmcc call cmd/host/h1 balance.status | jq -r '.result.high'; }
sent() { grep -v '^WATCHDOG=1$' "$T/notify-$1.log" | tr '\n' '|'; } # without keep-alives

harness_start_broker
listen h1
listen h2
listen confd
listen guest
printf 'set high 91\nset low 81\n' >"$T/r.rules"

NOTIFY_SOCKET=$T/notify-h1 WATCHDOG_USEC=300000 harness_start_host h1 --rules "$T/r.rules"
NOTIFY_SOCKET=$T/notify-h2 harness_start_host h2
wait_until 20 has h1 '^READY=1 STATUS=host h1 online'
ok $? "vmc-hostd: READY=1 with its status once online"
harness_wait_host h1 online
ok $? "h1 online"
wait_until 10 has h1 '^WATCHDOG=1$' 5
ok $? "vmc-hostd: WATCHDOG=1 again and again with WATCHDOG_USEC=300000"
wait_until 20 has h2 '^READY=1'
ok $? "vmc-hostd without a watchdog: READY=1"
n=$(count h1 '^WATCHDOG=1$')
wait_until 10 has h1 '^WATCHDOG=1$' $((n + 5)) # h2 has had the time for several
is "$(count h2 WATCHDOG)" 0 "vmc-hostd without WATCHDOG_USEC sends no keep-alives"
is "$(high)" 91 "the rules file's settings are in force"

# SIGHUP: a broken rules file is refused, the old rules stay
printf 'set high 55\nrule x { when nonsense do balance }\n' >"$T/r.rules"
kill -HUP "${HOST_PID[h1]}"
wait_until 10 grep -q 'reload: the rules in force stay' "$T/host-h1.log"
ok $? "SIGHUP, broken rules: refused, the rules in force stay"
like "$(grep 'reload:' "$T/host-h1.log")" "r.rules:2:[0-9]+: expected a metric" \
	"the error names the file, the line and what was wrong"
wait_until 10 has h1 '^RELOADING=1'
ok $? "RELOADING=1"
is "$(high)" 91 "settings unchanged after the broken file"

# SIGHUP: a good one is taken
printf 'set high 55\nset low 45\n' >"$T/r.rules"
kill -HUP "${HOST_PID[h1]}"
wait_until 10 has h1 '^RELOADING=1' 2
ok $? "RELOADING=1 at the second SIGHUP"
wait_until 10 sh -c "[ \"\$(VMC_BIN=$VMC_BIN; $VMC_BIN/vmc --broker $BROKER_URL call cmd/host/h1 balance.status | jq -r .result.high)\" = 55 ]"
ok $? "SIGHUP, good rules: the new settings are in force"
is "$(grep -c 'starting' "$T/host-h1.log") $(grep -c 'connected to broker' "$T/host-h1.log")" "1 1" \
	"the same process, the same broker connection"

# vmc-confd: SIGHUP checks the templates
mkdir -p "$T/templates"
printf 'image = base.img\nmemory = 256\nvcpus = 1\nkernel = /boot/k\n' >"$T/templates/good.tmpl"
printf 'memory = lots\n' >"$T/templates/bad.tmpl"
NOTIFY_SOCKET=$T/notify-confd WATCHDOG_USEC=300000 "$VMC_BIN/vmc-confd" --broker "$BROKER_URL" \
	--store "$T/store" --templates "$T/templates" >>"$T/confd.log" 2>&1 &
HOST_PID[confd]=$!
wait_until 20 has confd '^READY=1 STATUS=confd online'
ok $? "vmc-confd: READY=1 once online"
kill -HUP "${HOST_PID[confd]}"
wait_until 10 grep -q 'reload: templates in' "$T/confd.log"
like "$(grep 'reload:' "$T/confd.log" | tr '\n' '|')" \
	"template bad: .*bad.tmpl:1: .*reload: templates in .*: 1 loaded, 1 with errors" \
	"vmc-confd SIGHUP: every template loaded again, the broken one named"
like "$(sent confd)" "^READY=1 [^|]*\|RELOADING=1\|READY=1\|$" "vmc-confd: READY, RELOADING, READY"

# vmc-guestd
NOTIFY_SOCKET=$T/notify-guest "$VMC_BIN/vmc-guestd" --broker "$BROKER_URL" --name web1 \
	--interval 0.5 >>"$T/guestd.log" 2>&1 &
HOST_PID[guestd]=$!
wait_until 20 has guest '^READY=1 STATUS=vm web1 online'
ok $? "vmc-guestd: READY=1 once online"
kill -HUP "${HOST_PID[guestd]}"
wait_until 10 grep -q 'reload: nothing to read again' "$T/guestd.log"
ok $? "vmc-guestd: SIGHUP logged, not fatal"

# STOPPING=1 from each, and exit 0
for n in h1 confd guestd; do
	kill "${HOST_PID[$n]}"
	wait "${HOST_PID[$n]}"
	rc=$?
	unset "HOST_PID[$n]"
	sock=$n
	[ "$n" = guestd ] && sock=guest
	has "$sock" '^STOPPING=1'
	ok $((rc + $?)) "$n: STOPPING=1 and exit 0 on SIGTERM"
done
