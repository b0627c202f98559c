#!/usr/bin/env bats
# ltb-control: plans from a calibration, calibration caching, and serving
# one control message to a client started by hand.

load test_helper

# A calibration record made by hand: 1e9 work/s, and as much sleep as work.
calibration() {
	jq -nc '{type:"calibration",v:1,client:"c",target_cpu:0.5,
		sleep_per_work_ns:1,work_per_second:1e9,achieved_cpu:0.5}' >"$TMP/cal.json"
}

@test "--help prints the usage on stdout and exits 0" {
	run ltb-control --help
	assert_success
	assert_line --partial "usage: ltb-control calibrate"
	assert_line --partial "ltb-control serve"
}

@test "no command or an unknown one is a usage error" {
	run ltb-control
	assert_failure 2
	assert_line --partial "ltb-control: name a command"
	run ltb-control frob
	assert_failure 2
	assert_line --partial "unknown command 'frob'"
}

@test "plan turns a calibration into work and sleep per span" {
	calibration
	run ltb-control plan --client c --calibration "$TMP/cal.json" --sps 1000 --runtime 2
	assert_success
	# 1 ms per span, half work (at 1e9/s: 500000) and half sleep (500 us).
	run jq -r '[.type, .client, .target_sps, .runtime, .Trace, .Work, .Sleep, .Repeat, .SleepInterval, .NumTags, .NumLogs] | @tsv' <<<"$output"
	assert_output "$(printf 'control\tc\t1000\t2\ttrue\t500000\t500000\t2000\t100000000\t10\t15')"
}

@test "plan with --trace both interleaves traced and NoOp, per trial" {
	calibration
	run ltb-control plan --client c --calibration "$TMP/cal.json" --sps 100,200 \
		--trials 2 --trace both --runtime 1
	assert_success
	run jq -r '"\(.index) \(.target_sps) \(.trial) \(.Trace)"' <<<"$output"
	assert_output "$(printf '%s\n' '0 100 0 true' '1 100 0 false' '2 100 1 true' '3 100 1 false' \
		'4 200 0 true' '5 200 0 false' '6 200 1 true' '7 200 1 false')"
}

@test "plan --shard I/N keeps every Nth rate-and-trial pair, and the shards make the whole" {
	calibration
	for i in 0 1 2; do
		ltb-control plan --client c --calibration "$TMP/cal.json" --sps 100,200,300 \
			--trials 2 --trace both --shard "$i/3" >"$TMP/shard$i"
	done
	# Pairs (traced, NoOp) 0..5; shard 1 holds pairs 1 and 4, twins together.
	run jq -r '"\(.index) \(.target_sps) \(.trial) \(.Trace)"' "$TMP/shard1"
	assert_output "$(printf '%s\n' '2 100 1 true' '3 100 1 false' '8 300 0 true' '9 300 0 false')"
	run bash -c "cat '$TMP'/shard* | jq -r .index | sort -n | tr '\n' ' '"
	assert_output "0 1 2 3 4 5 6 7 8 9 10 11 "
}

@test "plan --trace off and the tracer settings flow into the records" {
	calibration
	run ltb-control plan --client c --calibration "$TMP/cal.json" --trace off \
		--num-tags 3 --num-logs 4 --reporting-period 100 --max-buffered 50 --no-flush --label nightly
	assert_success
	run jq -r '[.Trace, .NumTags, .NumLogs, .ReportingPeriodMs, .MaxBufferedSpans, .NoFlush, .label] | @tsv' <<<"$output"
	assert_output "$(printf 'false\t3\t4\t100\t50\ttrue\tnightly')"
}

@test "bad plan flags are usage errors naming the flag" {
	calibration
	run ltb-control plan --client c --calibration "$TMP/cal.json" --sps 100,abc
	assert_failure 2
	assert_line --partial "bad --sps"
	run ltb-control plan --client c --calibration "$TMP/cal.json" --shard 3/3
	assert_failure 2
	assert_line --partial "bad --shard '3/3'"
	run ltb-control plan --client c --calibration "$TMP/cal.json" --trace maybe
	assert_failure 2
	run ltb-control plan --calibration "$TMP/cal.json"
	assert_failure 2
	assert_line --partial "name a client"
}

@test "a calibration file without a calibration record is exit 2" {
	echo '{"type":"ready","v":1}' >"$TMP/notcal.json"
	run ltb-control plan --client c --calibration "$TMP/notcal.json"
	assert_failure 2
	assert_line --partial "no calibration record"
}

@test "calibrate caches its result, and plan uses the cache" {
	export LTB_CACHE_DIR=$TMP/cache
	run --separate-stderr ltb-control calibrate --client c --runtime 1 --control-port 0
	assert_success
	first=$output
	jq -e '.type == "calibration" and .work_per_second > 0 and .sleep_per_work_ns > 0' <<<"$first"
	ls "$LTB_CACHE_DIR"/calibration-c-0.70-*.json
	# The second time comes from the cache: the same record, no runs.
	run --separate-stderr ltb-control calibrate --client c --control-port 0
	assert_success
	assert_equal "$output" "$first"
	[[ $stderr != *"calibrate c: run"* ]]
	run --separate-stderr ltb-control plan --client c --sps 100 --runtime 1 --control-port 0
	assert_success
	jq -e '.Work > 0 and .Repeat == 100' <<<"$output"
}

@test "calibrating a client that does no work fails clearly" {
	export LTB_CACHE_DIR=$TMP/cache
	run ltb-control calibrate --client-cmd 'curl -s "$LTB_CONTROL_URL" >/dev/null' \
		--runtime 1 --control-port 0
	assert_failure 1
	assert_output --partial "is the client doing Work?"
}

@test "a calibration the busy machine keeps from converging is inconclusive, exit 4" {
	export LTB_CACHE_DIR=$TMP/cache
	# More CPU burners than CPUs: the client cannot reach 0.7 CPU.
	for ((i = 0; i <= $(nproc); i++)); do
		burn 120 &
		started $!
	done
	run --separate-stderr ltb-control calibrate --client c --runtime 0.5 --control-port 0
	echo "$stderr" >&3
	assert_failure 4
	[[ $stderr == *"calibration inconclusive"*"the machine was busy: other processes used up to"*"load average"* ]]
	[[ -z $output ]]
}

@test "serve hands one control message to a client started by hand" {
	ltb-control serve --control-port 0 --trace --repeat 42 --timeout 10 \
		>"$TMP/out" 2>"$TMP/err" &
	pid=$!
	started $pid
	wait_for 5 grep -q 'serving at' "$TMP/err"
	url=$(grep -o 'http://[^ ;]*/control' "$TMP/err" | head -n 1)
	run curl -sS "$url"
	assert_success
	jq -e '.Trace == true and .Repeat == 42' <<<"$output"
	wait "$pid"
	run jq -r '[.type, .message.Repeat, .peer] | @tsv' "$TMP/out"
	assert_output "$(printf 'fetched\t42\t127.0.0.1')"
}

@test "serve gives up after --timeout when nobody fetches" {
	run ltb-control serve --control-port 0 --timeout 0.5
	assert_failure 1
	assert_line --partial "no client fetched the control message"
}

@test "serve takes its message from a plan" {
	calibration
	ltb-control plan --client c --calibration "$TMP/cal.json" --sps 300 --runtime 1 >"$TMP/plan"
	ltb-control serve --control-port 0 --plan "$TMP/plan" --timeout 10 >"$TMP/out" 2>"$TMP/err" &
	pid=$!
	started $pid
	wait_for 5 grep -q 'serving at' "$TMP/err"
	url=$(grep -o 'http://[^ ;]*/control' "$TMP/err" | head -n 1)
	LTB_CONTROL_URL=$url run --separate-stderr "$LTB_ROOT/clients/c/run"
	assert_success
	jq -e '.type == "client" and .spans_sent == 300' <<<"$output"
	wait "$pid"
}

@test "bad numbers and unknown clients are usage errors before any work" {
	run ltb-control calibrate --client nosuch
	assert_failure 2
	assert_line --index 0 --partial "ltb-control: no client 'nosuch' (the clients are: c, js-lightstep, js-otel)"
	run ltb-sample --client nosuch --control-port 0
	assert_failure 2
	assert_line --index 0 --partial "ltb-sample: no client 'nosuch' (the clients are: c, js-lightstep, js-otel)"
	run ltb-control calibrate --client c --target-cpu 0.7abc
	assert_failure 2
	assert_line --index 0 "ltb-control: bad --target-cpu '0.7abc': not a number (a CPU share from 0.05 to 0.99)"
	run ltb-control calibrate --client c --sps 5x
	assert_failure 2
	assert_line --index 0 "ltb-control: bad --sps '5x': not a number (spans a second, from 1 to 1e7)"
	run ltb-control plan --client c --sps 0.001 --runtime 1
	assert_failure 2
	assert_line --index 0 "ltb-control: --sps 0.001 for --runtime 1 s plans no span a run: raise the rate or the runtime"
	run ltb-control plan --client c --sps 1e9 --runtime 86400
	assert_failure 2
	assert_line --index 0 --partial "plans 8.64e+13 spans a run, more than 1e+09"
	run ltb-satellite -b 999.1.1.1 -p 0 -a 0
	assert_failure 2
	assert_line --index 0 "ltb-satellite: bad --bind '999.1.1.1': not an IPv4 or IPv6 address"
}
