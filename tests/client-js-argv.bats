#!/usr/bin/env bats
# client-js-argv: an original LightStep Benchmarks client as it is, under
# ltb-sample --contract argv: tests/js/argv-client.js reads the original
# controller's eight flags and reports with the real npm lightstep-tracer
# over its "thrift" transport (JSON, POST /api/v0/reports) to the
# original's hard-coded localhost:8360, where ltb-sample's own satellites
# listen when that port is free. Nothing tells the client where they are.

load test_helper

LTB_NOT_UNDER_SANITIZER="its client is a third-party node library, which no sanitizer instruments; the ltb-sample, satellite and protocol code it drives runs under the sanitizers in ltb-sample*.bats, ltb-satellite*.bats and the fuzz targets"

LTB_NOT_IN_FRESH_ROOT="its tracer comes from tests/js's npm packages, which client-js.bats already runs there"

ARGV_CLIENT=$LTB_ROOT/tests/js/argv-client.js

setup_file() {
	[[ -z $(why_not_here) ]] || return 0
	command -v node >/dev/null || fail "node not found: tests/js needs Node.js"
	[[ -d $LTB_ROOT/tests/js/node_modules/lightstep-tracer ]] ||
		fail "tests/js/node_modules missing: run docker/deps.sh"
}

# free_8360: skip, saying what holds it, when something not ours does.
free_8360() {
	local p
	for p in 8360 8361 8362 8363 8364 8365 8366 8367; do
		if ss -Htln "sport = :$p" | grep -q .; then
			skip "127.0.0.1:$p is taken by something else: $(ss -Htlnp "sport = :$p" | head -n 1)"
		fi
	done
}

@test "the original's argv client over lightstep-tracer's thrift transport is measured on ltb-sample's own satellites at 8360" {
	free_8360
	local rec='"contract":"argv","client_cmd":"node '"$ARGV_CLIENT"'","target_sps":200,"runtime":1.5,"Work":1000,"Sleep":5000000,"SleepInterval":100000000,"Repeat":300'
	printf '{"type":"control","v":1,"client":"js-argv","trial":0,"Trace":false,%s}\n{"type":"control","v":1,"client":"js-argv","trial":0,"Trace":true,%s}\n' \
		"$rec" "$rec" >"$TMP/plan.jsonl"
	run --separate-stderr timeout 300 ltb-sample --plan "$TMP/plan.jsonl" --control-port 0
	assert_success
	[[ $stderr != *"warning"* ]] || fail "unexpected warning: $stderr"
	local res=$output
	run jq -r 'select(.type == "result") | "\(.trace) \(.contract) \(.startup_from) \(.spans_sent) \(.spans_sent_from) \(.spans_received) \(.spans_invalid) \(.dropped) \(.error)"' <<<"$res"
	assert_output "$(printf '%s\n' 'false argv probe 300 plan null null null null' 'true argv probe 300 plan 300 0 0 null')"
	# the start-up (node and the tracer's import) is out of the window:
	# 300 spans at 5 ms of sleep each is about 1.5 s
	run jq -r 'select(.type == "result") | "\(.startup_time > 0.05) \(.clock_time > 1.2 and .clock_time < 4)"' <<<"$res"
	assert_output "$(printf '%s\n' 'true true' 'true true')"
}

@test "the argv client calibrates: its first, shortest runs end within node's start-up and are grown past it" {
	# The work-rate probe starts at 20 spans, over within node's start-up
	# (about 0.2 s): an empty window there is no failure of a calibration.
	# A shared 2-core machine can be too busy for one to converge (exit
	# 4): it gets two more tries.
	export LTB_CACHE_DIR=$TMP/cache
	local try
	for try in 1 2 3; do
		run --separate-stderr timeout 300 ltb-control calibrate --client-cmd "node $ARGV_CLIENT" \
			--contract argv --runtime 2 --control-port 0
		[[ $status -eq 4 ]] || break
	done
	assert_success
	run jq -r '"\(.contract) \(.startup_cpu > 0.05) \(.startup_time > 0.05) \(.achieved_cpu > 0.65 and .achieved_cpu < 0.75)"' <<<"$output"
	assert_output "argv true true true"
}
