#!/usr/bin/env bats
# ltb-satellite's OSProfiler protocol, end to end: Debian's
# python3-osprofiler (its redis driver, on Debian's /usr/bin/python3)
# sends trace points to a real satellite's RESP port on loopback; the
# satellite pairs each start with its stop, and the real `osprofiler trace
# show` reads a trace back from it as it would from a Redis.

load test_helper

LTB_NOT_IN_FRESH_ROOT="the satellite's protocols need nothing a fresh machine lacks; tested on the normal and sanitizer builds"

setup() {
	ltb_setup
	skip_if_not_here
	/usr/bin/python3 -c 'import osprofiler, redis' 2>/dev/null ||
		skip "Debian's python3-osprofiler and python3-redis are not installed"
}

# start_resp: a satellite with one RESP port. Sets RESP_PORT besides
# start_satellite's.
start_resp() {
	start_satellite --ports 0 --resp 0 "$@"
	RESP_PORT=$(jq -r '.resp_ports[0]' <<<"$SAT_READY")
	[[ $RESP_PORT =~ ^[0-9]+$ ]]
}

# send_traces N [open]: N traces of 3 nested points (a, b in a, c in b)
# through osprofiler's redis driver to RESP_PORT, a new trace each
# (clean, then init: init alone keeps the old one); "open" adds one trace
# whose only point starts and never stops. Prints each trace's base_id,
# one a line, into $TMP/base_ids.
send_traces() {
	cat >"$TMP/send.py" <<'EOF'
import sys
from osprofiler import notifier, profiler

port, n = int(sys.argv[1]), int(sys.argv[2])
notifier.set(notifier.create("redis://127.0.0.1:%d" % port, project="ltb",
                             service="bench", host="vm", conf={}))
for i in range(n):
    profiler.clean()
    profiler.init("key")
    print(profiler.get().get_base_id())
    for name in ("a", "b", "c"):
        profiler.start(name, info={"i": i})
    for _ in range(3):
        profiler.stop()
if len(sys.argv) > 3 and sys.argv[3] == "open":
    profiler.clean()
    profiler.init("key")
    print(profiler.get().get_base_id())
    profiler.start("never")
EOF
	timeout 60 /usr/bin/python3 "$TMP/send.py" "$RESP_PORT" "$@" \
		>"$TMP/base_ids"
}

# osp FIELD: a field of /stats's osprofiler object.
osp() {
	sat_stat ".protocols.osprofiler.$1"
}
osp_is() {
	[[ $(osp "$1") == "$2" ]]
}

@test "500 traces of 3 nested points from python3-osprofiler are 1500 points, none invalid" {
	start_resp
	send_traces 500
	[[ $(wc -l <"$TMP/base_ids") == 500 ]]
	wait_for 10 osp_is received 1500
	run sat_stat '.protocols.osprofiler | [.received, .invalid, .duplicates,
		.messages, .unmatched_starts, .unmatched_stops, .broken_parents,
		.duplicate_starts, .pairing_overflow] | map(tostring) | join(" ")'
	assert_output "1500 0 0 3000 0 0 0 0 0"
	run sat_stat '.spans_received'
	assert_output 1500
}

@test "a start never stopped is one unmatched start, not a point" {
	start_resp
	send_traces 1 open
	wait_for 10 osp_is messages 7
	run sat_stat '.protocols.osprofiler | [.received, .invalid,
		.unmatched_starts, .unmatched_stops] | map(tostring) | join(" ")'
	assert_output "3 0 1 0"
}

@test "osprofiler trace show reads a trace back with its 3 nested points" {
	start_resp
	send_traces 2
	wait_for 10 osp_is received 6
	base=$(head -n 1 "$TMP/base_ids")
	run timeout 60 osprofiler trace show "$base" \
		--connection-string "redis://127.0.0.1:$RESP_PORT" --json
	assert_success
	printf '%s\n' "$output" >"$TMP/show.json"
	# The tree: total > a > b > c, each node's parent the one above, all
	# of the trace asked for, each started and finished.
	run /usr/bin/python3 - "$TMP/show.json" "$base" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1]))
names, node = [], t
while node["children"]:
    assert len(node["children"]) == 1, node["children"]
    child = node["children"][0]
    if "trace_id" in node:
        assert child["parent_id"] == node["trace_id"]
    else:
        assert child["parent_id"] == sys.argv[2]
    for stage in ("start", "stop"):
        raw = child["info"]["meta.raw_payload.%s-%s" % (
            child["info"]["name"], stage)]
        assert raw["base_id"] == sys.argv[2]
    node = child
    names.append(node["info"]["name"])
print(" ".join(names))
EOF
	assert_success
	assert_output "a b c"
}

@test "/reset forgets the open points and zeroes their counts" {
	start_resp
	send_traces 1 open
	wait_for 10 osp_is unmatched_starts 1
	curl -sS -X POST "$SAT_ADMIN/reset" >/dev/null
	run sat_stat '.protocols.osprofiler | [.received, .unmatched_starts]
		| map(tostring) | join(" ")'
	assert_output "0 0"
}

@test "a value that is not OSProfiler's is one invalid point, and the LPUSH succeeds" {
	start_resp
	command -v redis-cli >/dev/null || skip "redis-cli (redis-tools) is not installed"
	run redis-cli -p "$RESP_PORT" LPUSH osprofiler_opt:1ed18140-2830-4dd0-bfbe-0d42edc1d391 '{"name": "a-begin"}'
	assert_success
	refute_output --partial ERR
	wait_for 10 osp_is invalid 1
	run osp invalid_by_reason.bad_name
	assert_output 1
}
