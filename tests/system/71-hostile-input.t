#!/usr/bin/env bash
# Hostile names, files and settings have no effect: a NUL inside a name is refused, not
# cut short; a trace profile in a command reads only from the traces directory, never a
# FIFO or a link; 30,000 nested 'not's in a rules file are an error, not a crash; bad
# settings from -c FILE and --sim FILE are reported as FILE:LINE.
. "$(dirname "$0")/../lib/harness.sh"
harness_init
plan 18

harness_start_broker
mkdir -p "$T/traces"
printf '0 1\n10 2\n' >"$T/traces/busy.trace"
mkfifo "$T/traces/fifo.trace"
ln -s /etc/passwd "$T/traces/link.trace"
harness_start_host h1 --sim-traces "$T/traces"
harness_wait_host h1 online
ok $? "h1 online"
C=vmc/default
vmcc create keep1 --host h1 --memory 128 --vcpus 1 >/dev/null
ok $? "keep1 created"

sub_start "$T/r" "$C/reply/bad" -V mqttv5
ask() {
	local n=$(($(sub_payloads "$T/r" | wc -l) + 1))
	pub -V mqttv5 -t "$C/cmd/host/h1" -D publish response-topic "$C/reply/bad" "$@"
	wait_until 10 sub_has "$T/r" $n || return 1
	sub_payloads "$T/r" | sed -n "${n}p"
}
err_of() { jq -r '"\(.ok) \(.error.code): \(.error.message)"' <<<"$1"; }
names() { vmcc vms --json | jq -r '[.[].name] | sort | join(",")'; }

r=$(ask -m '{"id":"n1","op":"vm.destroy","args":{"name":"keep1\u0000x"}}')
like "$(err_of "$r")" "^false bad_json: .*NUL" "vm.destroy of \"keep1\\u0000x\" is refused"
is "$(vmcc vms --json | jq -r '.[] | select(.name=="keep1") | .state')" running "and keep1 still runs"
r=$(ask -m '{"id":"n2","op":"vm.create","args":{"name":"a\u0000b","memory_mb":64,"vcpus":1}}')
like "$(err_of "$r")" "^false bad_json: .*NUL" "vm.create of \"a\\u0000b\" is refused"
is "$(names)" "keep1" "and created nothing"

create_trace() { # NAME TRACE
	ask -m "$(jq -cn --arg n "$1" --arg t "trace $2" '{id:("t-"+$n),op:"vm.create",args:{name:$n,memory_mb:64,vcpus:1,config:("name = \"" + $n + "\"\nmemory = 64\nsim_load = \"" + $t + "\"\n")}}')"
}
r=$(create_trace t1 /etc/passwd)
like "$(err_of "$r")" "^false .*expected a file name in the traces directory" "a trace outside the traces directory is refused"
unlike_root=$(grep -c 'root' <<<"$r")
is "$unlike_root" 0 "and the error tells nothing of the file"
r=$(create_trace t2 fifo.trace)
like "$(err_of "$r")" "^false .*not a regular file" "a FIFO in the traces directory is refused at once"
r=$(create_trace t3 link.trace)
like "$(err_of "$r")" "^false .*symbolic link" "a symbolic link is not followed"
r=$(create_trace t4 busy.trace)
is "$(jq -r .ok <<<"$r")" true "a trace in the traces directory is read"

# rules: 30,000 nested nots
{ printf 'rule deep { when '; for ((i = 0; i < 30000; i++)); do printf 'not '; done; printf 'cpu > 1 do balance }\n'; } >"$T/deep.rules"
out=$("$VMC_BIN/vmc-hostd" -n --name x --driver sim --rules "$T/deep.rules" 2>&1)
rc=$?
is "$rc" 2 "30,000 nested 'not's: the agent refuses the rules (exit 2, no crash)"
like "$out" "deep.rules:1:[0-9]+: expected at most [0-9]+ nested" "with FILE:LINE:COL"

# settings files
printf 'broker = ftp://x\n' >"$T/h.conf"
out=$("$VMC_BIN/vmc-hostd" -n --name x -c "$T/h.conf" 2>&1)
like "$out" "h.conf:1: broker URL" "a bad broker in -c FILE: FILE:LINE"
printf '# two\nname = "a b"\n' >"$T/c.conf"
out=$("$VMC_BIN/vmc-confd" -n -c "$T/c.conf" 2>&1)
like "$out" "c.conf:2: name" "a bad name in confd's -c FILE: FILE:LINE"
printf 'cluster = "a b"\n' >"$T/v.conf"
out=$("$VMC_BIN/vmc" -c "$T/v.conf" hosts 2>&1)
like "$out" "v.conf:1: cluster name" "a bad cluster in vmc's -c FILE: FILE:LINE"
out=$("$VMC_BIN/vmtop-cluster" -b -c "$T/v.conf" 2>&1)
like "$out" "v.conf:1: cluster name" "a bad cluster in vmtop-cluster's -c FILE: FILE:LINE"
printf 'cpus = 2\n[vm a]\nload = "trace missing.trace"\n' >"$T/h.sim"
out=$("$VMC_BIN/vmc-hostd" --name x --driver sim --sim "$T/h.sim" --state-dir "$T/simx" --broker "$BROKER_URL" 2>&1)
like "$out" "h.sim:3: .*missing.trace" "a bad trace in --sim FILE: FILE:LINE"
