#!/usr/bin/env bash
# An agent at rest costs almost nothing: vmc-hostd maps only what its settings use
# (the xen driver is a module loaded for --driver xen alone; the alert webhook is the
# helper vmc-webhook, run per alert, so no libcurl in the agent), and an idle agent
# wakes for its sampling interval and the MQTT keepalive only, not for ticks.
. "$(dirname "$0")/../lib/harness.sh"
harness_init
plan 10

# --- the xen driver module ----------------------------------------------------------
out=$("$VMC_BIN/vmc-hostd" --driver xen --name fx --no-rules -n 2>&1)
is "$? $out" "0 configuration OK" \
	"--driver xen -n: the module vmc-hostd-xen.so is found next to vmc-hostd and loads"
out=$(VMC_HOSTD_LIBDIR=$T/nowhere "$VMC_BIN/vmc-hostd" --driver xen --name fx --no-rules -n 2>&1)
rc=$?
like "$rc $out" "^2 .*driver xen: no module vmc-hostd-xen.so \(looked for $T/nowhere/vmc-hostd-xen.so\)" \
	"VMC_HOSTD_LIBDIR without the module: exit 2, the path looked at named"
out=$("$VMC_BIN/vmc-hostd" --driver vmware --name fx --no-rules -n 2>&1)
like "$? $out" '^2 .*driver "vmware": expected sim or xen' "an unknown driver is refused"

# --- at rest: wake-ups ------------------------------------------------------------------
harness_start_broker
# the defaults: --interval 2 --keepalive 10, nothing else on the bus
"$VMC_BIN/vmc-hostd" --driver sim --name idle --broker "$BROKER_URL" --state-dir "$T/state-idle" \
	--no-rules >>"$T/host-idle.log" 2>&1 &
HOST_PID[idle]=$!
harness_wait_host idle online
ok $? "an agent with the default interval online"
pid=${HOST_PID[idle]}
switches() { awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$pid/status"; }
c0=$(switches) t0=$(date +%s%N)
sleep 8 # a measurement window, not a wait for a condition
c1=$(switches) t1=$(date +%s%N)
rate=$(awk -v c="$((c1 - c0))" -v t="$((t1 - t0))" 'BEGIN { printf "%.2f", c / (t / 1e9) }')
diag "idle agent: $((c1 - c0)) wake-ups in $(((t1 - t0) / 1000000)) ms ($rate/s)"
# a load message every 2 s (and its own echo), a keepalive check every 2.5 s: about 1.5/s;
# with the 50 ms balancer tick and the 250 ms polls it was about 30/s
ok "$(awk -v r="$rate" 'BEGIN { print (r < 4) ? 0 : 1 }')" \
	"an idle agent wakes under 4 times a second ($rate/s)"
maps=$(grep -c 'libxen\|libxl\|libcurl' "/proc/$pid/maps")
is "$maps" 0 "a sim agent maps neither the Xen libraries nor libcurl"
harness_kill_host idle

# --- the alert webhook, through vmc-webhook ----------------------------------------------
hport=$(harness_free_port)
python3 - "$hport" "$T/posts.txt" >>"$T/http.log" 2>&1 <<'PY' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(sys.argv[2], "ab") as f:
            f.write(self.path.encode() + b" " + self.headers.get("Content-Type", "").encode() +
                    b" " + body + b"\n")
        self.send_response(204)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
HOST_PID[http]=$!
wait_until 10 _port_open "$hport"
cat >"$T/alert.rules" <<EOF2
rule up {
	when cpu >= 0
	do alert "{host} reports" webhook "http://127.0.0.1:$hport/hook"
}
EOF2
harness_start_host h1 --rules "$T/alert.rules"
wait_until 30 test -s "$T/posts.txt"
ok $? "the alert reached the webhook"
post=$(head -n 1 "$T/posts.txt")
like "$post" '^/hook application/json \{.*"type":"alert"' "POSTed as JSON: the alert event"
json=${post#* application/json }
is "$(jq -r '.message + " " + .webhook' <<<"$json")" "h1 reports http://127.0.0.1:$hport/hook" \
	"the event's message and webhook"
no_zombie() { ! ps --ppid "${HOST_PID[h1]}" -o stat= | grep -q Z; }
wait_until 10 no_zombie
ok $? "the helper is reaped"
