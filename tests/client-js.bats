#!/usr/bin/env bats
# client-js: the js-lightstep client (clients/js-lightstep, the real npm
# lightstep-tracer) run by hand against a real ltb-satellite, its control
# message served from a file through LTB_CONTROL_URL=file://...

load test_helper

LTB_NOT_UNDER_SANITIZER="its client is a third-party node library, which no sanitizer instruments; the ltb-sample, satellite and protocol code it drives runs under the sanitizers in ltb-sample*.bats, ltb-satellite*.bats and the fuzz targets"

CLIENT_DIR=$LTB_ROOT/clients/js-lightstep

setup_file() {
	[[ -z $(why_not_here) ]] || return 0
	command -v node >/dev/null ||
		fail "node not found: the js-lightstep client needs Node.js and npm"
	command -v npm >/dev/null ||
		fail "npm not found: the js-lightstep client needs Node.js and npm"
	"$CLIENT_DIR/setup" >&2 ||
		fail "clients/js-lightstep/setup failed (see above)"
}

# control [JQ ASSIGNMENTS]: write $TMP/control.json, a small traced run
# aimed at the satellite started last, changed by the jq expression, and
# point LTB_CONTROL_URL at it.
control() {
	jq -n --argjson port "${SAT_PORT:-8360}" '{
		Trace: true, Sleep: 0, SleepInterval: 100000000, Work: 1000,
		Repeat: 300, NoFlush: false, NumTags: 10, NumLogs: 15,
		SatelliteHost: "127.0.0.1", SatellitePorts: [$port],
		ReportingPeriodMs: 200, MaxBufferedSpans: 10000
	} | '"${1:-.}" >"$TMP/control.json"
	export LTB_CONTROL_URL=file://$TMP/control.json
}

# client_field KEY: one field of the client's JSON line (in $output).
client_field() {
	jq -r ".$1" <<<"$output"
}

@test "setup is idempotent: a second run is quiet and does nothing" {
	run --separate-stderr "$CLIENT_DIR/setup"
	assert_success
	assert_equal "$output" ""
	assert_equal "$stderr" ""
}

@test "a traced run reports every span to the satellite, none invalid" {
	start_satellite
	control '.Repeat = 300'
	run --separate-stderr "$CLIENT_DIR/run"
	assert_success
	# Exactly one line on stdout, the client record.
	assert_equal "${#lines[@]}" 1
	run jq -c '[.type, .v, .client, .trace, .spans_sent, .dropped, .reports_failed]' <<<"$output"
	assert_output '["client",1,"js-lightstep",true,300,0,0]'
	run sat_stat '[.spans_received, .invalid_spans, .duplicate_spans, .rejected_reports] | @tsv'
	assert_output "$(printf '300\t0\t0\t0')"
	(($(sat_stat .reports) >= 1))
}

@test "a Repeat that is not a multiple of the chain length sends exactly Repeat spans" {
	# 13 spans: chains of 6, 6 and 1; not rounded to whole chains.
	start_satellite
	control '.Repeat = 13 | .NumTags = 0 | .NumLogs = 0'
	run --separate-stderr "$CLIENT_DIR/run"
	assert_success
	assert_equal "$(client_field spans_sent)" 13
	assert_equal "$(sat_stat .spans_received)" 13
	assert_equal "$(sat_stat .invalid_spans)" 0
}

@test "the summary names the tracer and the version installed; NoOp is noop" {
	version=$(jq -r .version "$CLIENT_DIR/node_modules/lightstep-tracer/package.json")
	[ -n "$version" ]
	start_satellite
	control '.Repeat = 12'
	run --separate-stderr "$CLIENT_DIR/run"
	assert_success
	assert_equal "$(jq -r .tracer <<<"$output")" "lightstep-tracer $version"
	control '.Trace = false | .Repeat = 12'
	run --separate-stderr "$CLIENT_DIR/run"
	assert_success
	assert_equal "$(jq -r .tracer <<<"$output")" noop
}

@test "a NoOp run sends nothing and still counts its spans" {
	start_satellite
	control '.Trace = false | .Repeat = 500'
	run --separate-stderr "$CLIENT_DIR/run"
	assert_success
	assert_equal "${#lines[@]}" 1
	run jq -c '[.trace, .spans_sent, .dropped, .reports_ok, .reports_failed]' <<<"$output"
	assert_output '[false,500,0,0,0]'
	sleep 0.3 # a reporting period: anything sent would have arrived
	assert_equal "$(sat_stat .spans_received)" 0
	assert_equal "$(sat_stat .reports)" 0
}

@test "Sleep and SleepInterval are honoured" {
	# 100 spans x 10 ms of debt, paid in 100 ms chunks when the debt
	# exceeds 100 ms: 9 sleeps, 0.9 s at least.
	start_satellite
	control '.Repeat = 100 | .Sleep = 10000000 | .SleepInterval = 100000000 | .Work = 0'
	local t0 t1
	t0=$(date +%s%N)
	run --separate-stderr "$CLIENT_DIR/run"
	t1=$(date +%s%N)
	assert_success
	assert_equal "$(client_field spans_sent)" 100
	local ms=$(((t1 - t0) / 1000000))
	((ms >= 900)) || fail "took $ms ms, wanted >= 900"
	((ms < 5000)) || fail "took $ms ms, wanted well under 5 s"
	assert_equal "$(sat_stat .spans_received)" 100
}

@test "NoFlush exits without waiting for the spans to be acknowledged" {
	start_satellite
	control '.Repeat = 60 | .NoFlush = true | .ReportingPeriodMs = 60000'
	run --separate-stderr "$CLIENT_DIR/run"
	assert_success
	run jq -c '[.spans_sent, .dropped]' <<<"$output"
	assert_output '[60,60]'
}

@test "a missing control file is exit 2 with a clear message" {
	export LTB_CONTROL_URL=file://$TMP/nothing.json
	run --separate-stderr "$CLIENT_DIR/run"
	assert_failure 2
	assert_equal "$output" ""
	assert_equal "$stderr" "client.js: cannot fetch control message from file://$TMP/nothing.json: no such file"
}

@test "an unreachable control URL is exit 2 with a clear message" {
	# A port that was free a moment ago: the satellite's, once it is gone.
	start_satellite
	local port=$SAT_PORT
	kill "$SAT_PID"
	wait_gone "$SAT_PID" 5
	export LTB_CONTROL_URL=http://127.0.0.1:$port/control
	run --separate-stderr "$CLIENT_DIR/run"
	assert_failure 2
	assert_equal "$output" ""
	assert_equal "$stderr" "client.js: cannot fetch control message from $LTB_CONTROL_URL: connection refused"
}

@test "a malformed control message is exit 2 and names the bad key" {
	control '.Repeat = -5'
	run --separate-stderr "$CLIENT_DIR/run"
	assert_failure 2
	assert_equal "$output" ""
	[[ $stderr == "client.js: cannot fetch control message from file://"*": Repeat: not an integer"* ]]
	echo 'not json' >"$TMP/control.json"
	run --separate-stderr "$CLIENT_DIR/run"
	assert_failure 2
	[[ $stderr == *"control.json: not JSON: "* ]]
}

@test "run says how to set up when node_modules is missing" {
	mkdir "$TMP/client"
	cp "$CLIENT_DIR/run" "$CLIENT_DIR/client.js" "$TMP/client/"
	run -127 --separate-stderr "$TMP/client/run"
	assert_failure 127
	assert_equal "$stderr" "clients/js-lightstep/run: not set up: run clients/js-lightstep/setup"
}

@test "an IPv6 SatelliteHost reaches the satellite" {
	ip -6 addr show lo 2>/dev/null | grep -q 'inet6 ::1/128' ||
		skip "no ::1 on lo"
	start_satellite -b ::1
	control '.Repeat = 60 | .SatelliteHost = "::1"'
	run --separate-stderr "$CLIENT_DIR/run"
	echo "$stderr"
	assert_success
	assert_equal "$(client_field dropped)" 0
	run sat_stat .spans_received
	assert_output 60
}
