#!/usr/bin/env bash
# 08-password-file.t - every program reads --password-file the same way: a file it
# cannot use (missing, a directory, empty, an empty first line, a NUL byte, a first
# line too long) stops it before it connects, with one message naming the file and
# the fault; a good file, or a pipe, gives the broker the first line.
. "$(dirname "$0")/../lib/harness.sh"
harness_init
plan 32

mkdir -p "$T/store" "$T/templates"
free=$(harness_free_port)
U="mqtt://127.0.0.1:$free" # nothing listens: each must fail on the file before connecting

# run PROGRAM FILE: the program with broker credentials, its output on stdout (checked as
# one line: "STATUS OUTPUT")
run() {
	local p=$1 f=$2
	case $p in
	vmc) timeout 60 "$VMC_BIN/vmc" --timeout 30 --broker "$U" --user u --password-file "$f" hosts ;;
	vmtop-cluster) timeout 60 "$VMC_BIN/vmtop-cluster" -b -i 1 --timeout 30 --broker "$U" \
		--user u --password-file "$f" ;;
	vmc-confd) timeout 60 "$VMC_BIN/vmc-confd" --broker "$U" --user u --password-file "$f" \
		--store "$T/store" --templates "$T/templates" ;;
	vmc-guestd) timeout 60 "$VMC_BIN/vmc-guestd" --name g1 --broker "$U" --user u \
		--password-file "$f" ;;
	vmc-hostd) timeout 60 "$VMC_BIN/vmc-hostd" --driver sim --name h1 --broker "$U" --user u \
		--password-file "$f" --state-dir "$T/state-h1" ;;
	esac 2>&1
}

: >"$T/empty.pass"
printf '\nsecret\n' >"$T/blank.pass"
printf 'ab\0cd\n' >"$T/nul.pass"
head -c 600 /dev/zero | tr '\0' a >"$T/long.pass"
for p in vmc vmtop-cluster vmc-confd vmc-guestd vmc-hostd; do
	for c in "missing.pass:No such file or directory" "empty.pass:empty" \
		"blank.pass:the first line is empty" "nul.pass:holds a NUL byte" \
		"long.pass:longer than 511 bytes"; do
		f=$T/${c%%:*}
		out=$(run "$p" "$f")
		rc=$?
		like "$rc ${out//$'\n'/ }" "^[1-9][0-9]* .*password file $f: ${c#*:}" "$p: ${c#*:}"
	done
	out=$(run "$p" "$T")
	rc=$?
	like "$rc ${out//$'\n'/ }" "^[1-9][0-9]* .*password file $T: Is a directory" "$p: a directory"
done

# the development broker takes any credentials: the password reaches it from a file or a pipe
harness_start_broker
harness_start_host h1
harness_wait_host h1 online
printf 'secret\nrest\n' >"$T/good.pass"
out=$("$VMC_BIN/vmc" --broker "$BROKER_URL" --user u --password-file "$T/good.pass" hosts 2>&1)
like "$out" "h1" "vmc connects with a good password file"
out=$("$VMC_BIN/vmc" --broker "$BROKER_URL" --user u --password-file <(printf 'secret\n') hosts 2>&1)
like "$out" "h1" "vmc connects with the password from a pipe"
