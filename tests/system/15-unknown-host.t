#!/usr/bin/env bash
# Every vmc command that names a host the retained host list does not know
# fails at once, saying so, instead of waiting for a reply nobody will send.
# Each runs with a short --timeout: waiting for a reply would end in "no reply"
# and exit 3; knowing better ends in "host ... is not known" and exit 1.
. "$(dirname "$0")/../lib/harness.sh"
harness_init
plan 20

harness_start_broker
harness_start_host h1 --memory 8192
harness_wait_host h1 online
ok $? "h1 online"
vmcc create v1 --host h1 --memory 256 --vcpus 1 >/dev/null
ok $? "v1 runs on h1"

# unknown DESC ARGS...: vmc ARGS exits 1 and names the unknown host nosuch
unknown() {
	local what=$1 out rc
	shift
	out=$(VMC_TIMEOUT=2 vmcc "$@" 2>&1)
	rc=$?
	is "$rc" 1 "$what: exit 1"
	like "$out" "host nosuch is not known" "$what: says host nosuch is not known"
}
unknown "drain nosuch" drain nosuch
unknown "undrain nosuch" undrain nosuch
unknown "create --host nosuch" create x1 --host nosuch --memory 64 --vcpus 1
unknown "info nosuch" info nosuch
unknown "call cmd/host/nosuch" call cmd/host/nosuch host.info
unknown "pause --host nosuch" pause v1 --host nosuch
unknown "migrate --host nosuch" migrate v1 h1 --host nosuch
unknown "vms --host nosuch" vms --host nosuch
unknown "plan --host nosuch" plan --host nosuch
