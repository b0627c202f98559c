#!/usr/bin/env bats
# ltb-control: plans from a calibration, calibration caching, and serving
# one control message to a client started by hand.

load test_helper

LTB_NOT_IN_FRESH_ROOT="calibrating and planning need only what make demo uses there; run on the normal and sanitizer builds"

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

@test "plan with --trace both pairs NoOp and traced runs, ABBA, in rounds by trial" {
	calibration
	run ltb-control plan --client c --calibration "$TMP/cal.json" --sps 100,200 \
		--trials 2 --trace both --runtime 1
	assert_success
	# Round 0 then round 1; a pair's runs adjacent, base first in the
	# even pairs of the run order and test first in the odd ones. The
	# rates' order in a round comes from the seed (1 by default).
	run jq -r '"\(.index) \(.target_sps) \(.trial) \(.pair) \(.arm) \(.Trace) \(.seed)"' <<<"$output"
	assert_output "$(printf '%s\n' '0 100 0 0 base false 1' '1 100 0 0 test true 1' \
		'2 200 0 2 test true 1' '3 200 0 2 base false 1' \
		'4 100 1 1 base false 1' '5 100 1 1 test true 1' \
		'6 200 1 3 test true 1' '7 200 1 3 base false 1')"
}

@test "plan --shard I/N keeps every Nth rate-and-trial pair, and the shards make the whole" {
	calibration
	for i in 0 1 2; do
		ltb-control plan --client c --calibration "$TMP/cal.json" --sps 100,200,300 \
			--trials 2 --trace both --shard "$i/3" >"$TMP/shard$i"
	done
	# Pairs g = rate * trials + trial, 0..5; shard 1 holds pairs 4 and 1
	# (in run order), both runs of each together, ABBA over its own pairs.
	run jq -r '"\(.index) \(.target_sps) \(.trial) \(.pair) \(.arm) \(.Trace)"' "$TMP/shard1"
	assert_output "$(printf '%s\n' '4 300 0 4 base false' '5 300 0 4 test true' \
		'10 100 1 1 test true' '11 100 1 1 base false')"
	run bash -c "cat '$TMP'/shard* | jq -r .index | sort -n | tr '\n' ' '"
	assert_output "0 1 2 3 4 5 6 7 8 9 10 11 "
	run bash -c "cat '$TMP'/shard* | jq -sc 'group_by(.pair) | map([.[0].pair, length, (map(.arm) | sort)])'"
	assert_output '[[0,2,["base","test"]],[1,2,["base","test"]],[2,2,["base","test"]],[3,2,["base","test"]],[4,2,["base","test"]],[5,2,["base","test"]]]'
}

@test "plan --seed shuffles the rates of each round; the same seed, the same plan" {
	calibration
	order() {
		ltb-control plan --client c --calibration "$TMP/cal.json" --sps 100,200,300,400 \
			--trials 3 --trace both "$@" | jq -r '"\(.target_sps)/\(.trial)/\(.arm)"' | tr '\n' ' '
	}
	a=$(order --seed 5)
	assert_equal "$(order --seed 5)" "$a"
	[[ $(order --seed 6) != "$a" ]]
	[[ $(order) != "$a" ]]
	# Every round a permutation of the rates, each rate a whole pair.
	run bash -c "ltb-control plan --client c --calibration '$TMP/cal.json' --sps 100,200,300,400 \
		--trials 3 --trace both --seed 5 | jq -sc 'group_by(.trial) | map(map(.target_sps) | sort)'"
	assert_output '[[100,100,200,200,300,300,400,400],[100,100,200,200,300,300,400,400],[100,100,200,200,300,300,400,400]]'
}

@test "plan --trace aa runs the traced client in both arms, aa-noop the NoOp one" {
	calibration
	run ltb-control plan --trace aa --sps 100,200 --trials 2 --client c --calibration "$TMP/cal.json"
	assert_success
	assert_equal "$(wc -l <<<"$output")" 8
	run jq -sc '[(map(.Trace) | unique), (map(.arm) | group_by(.) | map([.[0], length])), (group_by(.pair) | map(length) | unique)]' <<<"$output"
	assert_output '[[true],[["base",4],["test",4]],[2]]'
	run bash -c "ltb-control plan --trace aa-noop --sps 100,200 --client c --calibration '$TMP/cal.json' |
		jq -sc 'map([.Trace, .arm])'"
	assert_output '[[false,"base"],[false,"test"],[false,"test"],[false,"base"]]'
	# The word can stand apart, as for on, off and both.
	run ltb-control plan --client c --calibration "$TMP/cal.json" --trace aa-noop --sps 100
	assert_success
	run jq -sc 'map(.Trace)' <<<"$output"
	assert_output '[false,false]'
}

@test "plan --planted-ns lands in the test arm's messages, and the work rate in every record" {
	calibration
	run ltb-control plan --client c --calibration "$TMP/cal.json" --trace both \
		--sps 100,200 --trials 2 --planted-ns 5000
	assert_success
	run jq -sc 'map([.arm, .Trace, .PlantedNsPerSpan, .planted_ns, .work_per_second]) | unique' <<<"$output"
	assert_output '[["base",false,0,0,1000000000],["test",true,5000,5000,1000000000]]'
	# A/A: both arms traced, the plant in one: the pairs measure it alone
	run ltb-control plan --client c --calibration "$TMP/cal.json" --trace aa \
		--sps 100,200 --trials 2 --planted-ns 5000
	run jq -sc 'map([.arm, .Trace, .PlantedNsPerSpan]) | unique' <<<"$output"
	assert_output '[["base",true,0],["test",true,5000]]'
	run ltb-control plan --client c --calibration "$TMP/cal.json" --trace on --planted-ns 7
	run jq -c '[.PlantedNsPerSpan, .planted_ns]' <<<"$output"
	assert_output '[7,7]'
	run ltb-control plan --client c --calibration "$TMP/cal.json"
	run jq -c '[.PlantedNsPerSpan, .planted_ns]' <<<"$output"
	assert_output '[0,0]'
}

@test "bad --seed and --planted-ns are usage errors saying what they take" {
	calibration
	run ltb-control plan --client c --calibration "$TMP/cal.json" --seed -3
	assert_failure 2
	assert_line --index 0 "ltb-control: bad --seed '-3': not a whole number (a whole number from 0 to 9007199254740991)"
	run ltb-control plan --client c --calibration "$TMP/cal.json" --seed 1.5
	assert_failure 2
	assert_line --partial "bad --seed '1.5'"
	run ltb-control plan --client c --calibration "$TMP/cal.json" --planted-ns 2000000000
	assert_failure 2
	assert_line --index 0 "ltb-control: bad --planted-ns '2000000000': out of range (a whole number from 0 to 1000000000)"
	run ltb-control plan --client c --calibration "$TMP/cal.json" --planted-ns 5us
	assert_failure 2
	assert_line --partial "bad --planted-ns '5us'"
	run ltb-control plan --client c --calibration "$TMP/cal.json" --trace=ab
	assert_failure 2
	assert_line --partial "bad --trace 'ab': use on, off, both, aa or aa-noop"
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
	assert_line --index 0 --regexp "^ltb-control: no client 'nosuch' \\(the clients are: c(, [a-z-]+)*, js-lightstep, js-otel(, [a-z-]+)*\\)"
	run ltb-sample --client nosuch --control-port 0
	assert_failure 2
	assert_line --index 0 --regexp "^ltb-sample: no client 'nosuch' \\(the clients are: c(, [a-z-]+)*, js-lightstep, js-otel(, [a-z-]+)*\\)"
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

# registered_client NAME [PROTOCOL]: a client NAME in $TMP/clients (found
# through LTB_CLIENTS_DIR), whose protocol file names PROTOCOL; none
# without one. Its run only prints a summary: these tests plan, not run.
registered_client() {
	mkdir -p "$TMP/clients/$1"
	printf '#!/bin/sh\necho '"'"'{"type":"client","spans_sent":0}'"'"'\n' \
		>"$TMP/clients/$1/run"
	chmod +x "$TMP/clients/$1/run"
	if [[ -n ${2:-} ]]; then
		printf '%s\n' "$2" >"$TMP/clients/$1/protocol"
	fi
	export LTB_CLIENTS_DIR=$TMP/clients
}

@test "plan tells a client the protocol its protocol file names, unless --protocol says otherwise" {
	calibration
	registered_client metrics spectatord
	registered_client publisher atlas
	registered_client tracer
	run ltb-control plan --client metrics --calibration "$TMP/cal.json" --sps 100 --runtime 1
	assert_success
	run jq -r .Protocol <<<"$output"
	assert_output spectatord
	run ltb-control plan --client publisher --calibration "$TMP/cal.json" --sps 100 --runtime 1
	run jq -r .Protocol <<<"$output"
	assert_output atlas
	run ltb-control plan --client metrics --calibration "$TMP/cal.json" --sps 100 --runtime 1 \
		--protocol otlp
	run jq -r .Protocol <<<"$output"
	assert_output otlp
	# no file: lightstep, as clients always were
	run ltb-control plan --client tracer --calibration "$TMP/cal.json" --sps 100 --runtime 1
	run jq -r .Protocol <<<"$output"
	assert_output lightstep
}

@test "the shipped clients say what they speak: js-otel otlp, c and js-lightstep nothing (lightstep)" {
	calibration
	for c in c:lightstep js-lightstep:lightstep js-otel:otlp; do
		run ltb-control plan --client "${c%%:*}" --calibration "$TMP/cal.json" --sps 100 --runtime 1
		assert_success
		run jq -r .Protocol <<<"$output"
		assert_output "${c#*:}"
	done
	[ ! -e "$LTB_ROOT/clients/c/protocol" ]
}

@test "a bad protocol file is exit 2 naming the file, the line and the known protocols" {
	calibration
	registered_client bad '# what it speaks'
	printf 'zipkin\n' >>"$TMP/clients/bad/protocol"
	for cmd in "plan --calibration $TMP/cal.json" calibrate; do
		run --separate-stderr ltb-control $cmd --client bad --control-port 0
		assert_failure 2
		[[ ${stderr%%$'\n'*} == "ltb-control: $TMP/clients/bad/protocol:2: unknown protocol 'zipkin' (known: lightstep, otlp, spectatord, atlas, osprofiler)" ]]
		[[ -z $output ]]
	done
	printf 'spectatord\natlas\n' >"$TMP/clients/bad/protocol"
	run ltb-control plan --client bad --calibration "$TMP/cal.json"
	assert_failure 2
	assert_line --index 0 "ltb-control: $TMP/clients/bad/protocol:2: a second protocol (line 1 named one): the file names one"
	# --protocol given, the file is not read
	run ltb-control plan --client bad --calibration "$TMP/cal.json" --protocol spectatord
	assert_success
}

@test "plan --line-buffer and --meters flow into the records; bad ones are usage errors" {
	calibration
	run ltb-control plan --client c --calibration "$TMP/cal.json" --protocol spectatord \
		--line-buffer 2048 --meters counter,percentile_timer,gauge --sps 100 --runtime 1
	assert_success
	run jq -c '[.Protocol, .LineBufferBytes, .Meters]' <<<"$output"
	assert_output '["spectatord",2048,["counter","percentile_timer","gauge"]]'
	# the defaults: a datagram a line, counters, timers and gauges
	run ltb-control plan --client c --calibration "$TMP/cal.json" --protocol atlas --sps 100 --runtime 1
	run jq -c '[.Protocol, .LineBufferBytes, .Meters, .SatelliteUdpPorts, .SatelliteUnixSocket]' <<<"$output"
	assert_output '["atlas",0,["counter","timer","gauge"],[],null]'
	run ltb-control plan --client c --calibration "$TMP/cal.json" --line-buffer 70000
	assert_failure 2
	assert_line --index 0 "ltb-control: bad --line-buffer '70000': expected a whole number from 0 to 65536"
	run ltb-control plan --client c --calibration "$TMP/cal.json" --meters counter,histogram
	assert_failure 2
	assert_line --index 0 --partial "ltb-control: bad --meters 'counter,histogram': 'histogram' is no meter type (counter, "
	run ltb-control --help
	assert_line --partial "--line-buffer BYTES"
	assert_line --partial "--meters LIST"
	assert_line --partial "clients/NAME/protocol"
}

@test "serve hands a metrics client its protocol, line buffer and meters" {
	ltb-control serve --control-port 0 --protocol spectatord --line-buffer 512 \
		--meters gauge --repeat 7 --timeout 10 >"$TMP/out" 2>"$TMP/err" &
	pid=$!
	started $pid
	wait_for 5 grep -q 'serving at' "$TMP/err"
	url=$(grep -o 'http://[^ ;]*/control' "$TMP/err" | head -n 1)
	run curl -sS "$url"
	assert_success
	run jq -c '[.Protocol, .LineBufferBytes, .Meters, .Repeat]' <<<"$output"
	assert_output '["spectatord",512,["gauge"],7]'
	wait "$pid"
}
