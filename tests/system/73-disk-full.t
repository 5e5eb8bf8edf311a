#!/usr/bin/env bash
# State is written before acting: with the host agent's state directory full (a small
# tmpfs filled up) or read-only, a vm.create fails and creates nothing, a vm.destroy
# fails and the VM still runs, each reply saying why; after a restart with space back,
# the agent's inventory is what the replies said. Needs root (it mounts a tmpfs).
. "$(dirname "$0")/../lib/harness.sh"
harness_init
if [ "$(id -u)" != 0 ] || ! mkdir -p "$T/full" || ! mount -t tmpfs -o size=512k tmpfs "$T/full" 2>/dev/null; then
	echo "1..0 # SKIP needs root to mount a small tmpfs"
	exit 0
fi
cleanup_mounts() {
	harness_kill_host h1
	umount "$T/full/state" 2>/dev/null
	umount "$T/full" 2>/dev/null
	harness_cleanup
}
trap cleanup_mounts EXIT
plan 15

harness_start_broker
start_h1() { harness_start_host h1 --state-dir "$T/full/state"; harness_wait_host h1 online; }
start_h1
ok $? "h1 online, its state directory on a 512 KiB tmpfs"
vmcc create keep1 --host h1 --memory 128 --vcpus 1 >/dev/null
ok $? "keep1 created"
names() { vmcc call cmd/host/h1 host.vms | jq -r '[.result.vms[] | "\(.name):\(.state)"] | sort | join(",")'; }
err_of() { jq -r '"\(.ok) \(.error.code): \(.error.message)"' <<<"$1"; }

# fill it up
dd if=/dev/zero of="$T/full/filler" bs=4k >/dev/null 2>&1
r=$(vmcc call cmd/host/h1 vm.create '{"name":"x1","memory_mb":64,"vcpus":1}' 2>&1)
like "$(err_of "$r")" "^false failed: .*(No space left|cannot be recorded)" "disk full: vm.create fails, saying why"
r=$(vmcc call cmd/host/h1 vm.destroy '{"name":"keep1"}' 2>&1)
like "$(err_of "$r")" "^false failed: .*No space left" "disk full: vm.destroy fails, saying why"
is "$(names)" "keep1:running" "and nothing changed: keep1 runs, x1 does not exist"
r=$(vmcc call cmd/host/h1 vm.pause '{"name":"keep1"}' 2>&1)
like "$(err_of "$r")" "^false failed: " "disk full: vm.pause fails"
is "$(names)" "keep1:running" "and keep1 still runs"

# restart with space back: the inventory is what the replies said
harness_kill_host h1
rm -f "$T/full/filler"
start_h1
ok $? "h1 restarted with space back"
is "$(names)" "keep1:running" "keep1 runs, x1 never existed"

# read-only: a read-only bind mount over the state directory (files the agent holds
# open stay writable, as after an emergency remount; every new write fails)
mount --bind "$T/full/state" "$T/full/state" && mount -o remount,bind,ro "$T/full/state"
ok $? "the state directory is now read-only"
r=$(vmcc call cmd/host/h1 vm.create '{"name":"x2","memory_mb":64,"vcpus":1}' 2>&1)
like "$(err_of "$r")" "^false failed: .*Read-only" "read-only: vm.create fails, saying why"
r=$(vmcc call cmd/host/h1 vm.destroy '{"name":"keep1"}' 2>&1)
like "$(err_of "$r")" "^false failed: .*Read-only" "read-only: vm.destroy fails, saying why"
is "$(names)" "keep1:running" "and nothing changed"
harness_kill_host h1
umount "$T/full/state"
start_h1
ok $? "h1 restarted read-write"
is "$(names)" "keep1:running" "its inventory is still keep1 alone"
