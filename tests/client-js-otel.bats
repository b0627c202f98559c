#!/usr/bin/env bats
# client-js-otel: the js-otel client (clients/js-otel, the real npm
# OpenTelemetry JS SDK and its OTLP/HTTP exporters) run by hand against a
# real ltb-satellite, its control message served from a file through
# LTB_CONTROL_URL=file://..., and run by ltb-sample. Skipped, with the
# reason, where Node.js or npm is missing.

load test_helper

LTB_NOT_UNDER_SANITIZER="its client is a third-party node library, which no sanitizer instruments; the ltb-sample, satellite and protocol code it drives runs under the sanitizers in ltb-sample*.bats, ltb-satellite*.bats and the fuzz targets"

CLIENT_DIR=$LTB_ROOT/clients/js-otel

setup_file() {
	[[ -z $(why_not_here) ]] || return 0
	# bats 1.8 cannot skip from setup_file: each test skips in setup.
	if ! command -v node >/dev/null; then
		export JSOTEL_SKIP="node not found: the js-otel client needs Node.js (>= 18.19) and npm"
	elif ! command -v npm >/dev/null; then
		export JSOTEL_SKIP="npm not found: the js-otel client needs Node.js (>= 18.19) and npm"
	else
		"$CLIENT_DIR/setup" >&2 ||
			fail "clients/js-otel/setup failed (see above)"
	fi
	# One calibration of js-otel for the ltb-sample tests of this file.
	export LTB_CACHE_DIR=$BATS_FILE_TMPDIR/cache
}

setup() {
	ltb_setup
	skip_if_not_here
	[[ -z ${JSOTEL_SKIP:-} ]] || skip "$JSOTEL_SKIP"
	unset OTEL_EXPORTER_OTLP_PROTOCOL OTEL_EXPORTER_OTLP_TRACES_PROTOCOL \
		OTEL_EXPORTER_OTLP_COMPRESSION OTEL_EXPORTER_OTLP_TRACES_COMPRESSION \
		OTEL_EXPORTER_OTLP_TIMEOUT OTEL_EXPORTER_OTLP_ENDPOINT
}

# control [JQ ASSIGNMENTS]: write $TMP/control.json, a small traced run
# aimed at the satellite started last, changed by the jq expression, and
# point LTB_CONTROL_URL at it.
control() {
	jq -n --argjson port "${SAT_PORT:-8360}" '{
		Trace: true, Sleep: 0, SleepInterval: 100000000, Work: 1000,
		Repeat: 1000, NoFlush: false, NumTags: 10, NumLogs: 15,
		SatelliteHost: "127.0.0.1", SatellitePorts: [$port],
		ReportingPeriodMs: 200, MaxBufferedSpans: 10000
	} | '"${1:-.}" >"$TMP/control.json"
	export LTB_CONTROL_URL=file://$TMP/control.json
}

# client_field KEY: one field of the client's JSON line (in $output).
client_field() {
	jq -r ".$1" <<<"$output"
}

# assert_all_counted N: the satellite counted N spans, every one intact,
# once, on the OTLP path.
assert_all_counted() {
	run sat_stat '[.spans_received, .invalid_spans, .duplicate_spans,
		.rejected_reports, .unknown_path_requests] | @tsv'
	assert_output "$(printf '%s\t0\t0\t0\t0' "$1")"
}

# free_port: a port nothing listens on (the satellite's, once it is gone).
free_port() {
	start_satellite --ports 0
	local port=$SAT_PORT
	kill "$SAT_PID"
	wait_gone "$SAT_PID" 5
	echo "$port"
}

@test "setup is idempotent: a second run is quiet and does nothing" {
	run --separate-stderr "$CLIENT_DIR/setup"
	assert_success
	assert_equal "$output" ""
	assert_equal "$stderr" ""
}

@test "the lockfile pins the SDK and exporters the issue names" {
	run jq -r '.packages | to_entries[] | select(.key | startswith("node_modules/@opentelemetry/"))
		| "\(.key | ltrimstr("node_modules/")) \(.value.version)"' "$CLIENT_DIR/package-lock.json"
	assert_line '@opentelemetry/sdk-trace-base 2.12.1'
	assert_line '@opentelemetry/exporter-trace-otlp-proto 0.223.1'
	assert_line '@opentelemetry/exporter-trace-otlp-http 0.223.1'
	# Every package runs on Debian bookworm's Node 18 (18.20): each range
	# has an alternative "^18.x" or ">=N" with N at most 18.
	run jq -r '.packages[] | .engines.node // empty' "$CLIENT_DIR/package-lock.json"
	assert_success
	(("${#lines[@]}" > 0))
	run grep -Ev '(^|\|\| *)(\^18\.([0-9]|1[0-9]|20)\.|>= *([0-9]|1[0-8])(\.|$| ))' <<<"$output"
	assert_output ''
}

@test "the protobuf exporter reports 1000 spans, every one counted, none invalid" {
	start_satellite
	control
	run --separate-stderr "$CLIENT_DIR/run"
	assert_success
	# Exactly one line on stdout, the client record.
	assert_equal "${#lines[@]}" 1
	run jq -c '[.type, .v, .client, .trace, .spans_sent, .dropped, .exporter,
		.compression, .reports_failed]' <<<"$output"
	assert_output '["client",1,"js-otel",true,1000,0,"http/protobuf","none",0]'
	assert_all_counted 1000
}

@test "the protobuf exporter with gzip reports 1000 spans, every one counted" {
	start_satellite
	control
	OTEL_EXPORTER_OTLP_COMPRESSION=gzip run --separate-stderr "$CLIENT_DIR/run"
	assert_success
	run jq -c '[.spans_sent, .dropped, .exporter, .compression, .reports_failed]' <<<"$output"
	assert_output '[1000,0,"http/protobuf","gzip",0]'
	assert_all_counted 1000
}

@test "the JSON exporter reports 1000 spans, every one counted, none invalid" {
	start_satellite
	control
	OTEL_EXPORTER_OTLP_PROTOCOL=http/json run --separate-stderr "$CLIENT_DIR/run"
	assert_success
	run jq -c '[.spans_sent, .dropped, .exporter, .compression, .reports_failed]' <<<"$output"
	assert_output '[1000,0,"http/json","none",0]'
	assert_all_counted 1000
}

@test "the JSON exporter with gzip reports every span" {
	start_satellite
	control '.Repeat = 300'
	OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json OTEL_EXPORTER_OTLP_COMPRESSION=gzip \
		run --separate-stderr "$CLIENT_DIR/run"
	assert_success
	run jq -c '[.spans_sent, .dropped, .exporter, .compression]' <<<"$output"
	assert_output '[300,0,"http/json","gzip"]'
	assert_all_counted 300
}

@test "the exporter POSTs to /v1/traces on the first port of SatellitePorts" {
	# Whatever the satellite makes of it: requests reach the path, all on
	# the first port.
	start_satellite
	control '.Repeat = 60'
	run --separate-stderr "$CLIENT_DIR/run"
	assert_success
	run sat_stat '[.ports[0].requests > 0, .ports[1].requests,
		(.unknown_paths | keys | map(select(. != "/v1/traces")) | length)] | @tsv'
	assert_output "$(printf 'true\t0\t0')"
}

@test "an IPv6 SatelliteHost is bracketed in the URL" {
	[[ -e /proc/net/if_inet6 ]] || skip "no IPv6 on this machine"
	start_satellite -b ::1
	control '.Repeat = 60 | .SatelliteHost = "::1"'
	run --separate-stderr "$CLIENT_DIR/run"
	assert_success
	assert_equal "$(client_field dropped)" 0
	assert_all_counted 60
}

@test "the signal's own OTEL_ variable wins over the general one" {
	control '.Trace = false | .Repeat = 6'
	OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json \
		OTEL_EXPORTER_OTLP_COMPRESSION=gzip OTEL_EXPORTER_OTLP_TRACES_COMPRESSION=none \
		run --separate-stderr "$CLIENT_DIR/run"
	assert_success
	run jq -c '[.exporter, .compression]' <<<"$output"
	assert_output '["http/json","none"]'
}

@test "an OTEL_ protocol or compression the client does not speak is exit 2" {
	control '.Repeat = 6'
	OTEL_EXPORTER_OTLP_PROTOCOL=grpc run --separate-stderr "$CLIENT_DIR/run"
	assert_failure 2
	assert_equal "$output" ""
	assert_equal "$stderr" "client.js: OTEL_EXPORTER_OTLP_PROTOCOL=grpc: not a protocol this client speaks (http/protobuf or http/json)"
	OTEL_EXPORTER_OTLP_COMPRESSION=br run --separate-stderr "$CLIENT_DIR/run"
	assert_failure 2
	assert_equal "$stderr" "client.js: OTEL_EXPORTER_OTLP_COMPRESSION=br: not none or gzip"
}

@test "a Repeat that is not a multiple of the chain length sends exactly Repeat spans" {
	# 13 spans: chains of 6, 6 and 1; not rounded to whole chains.
	start_satellite
	control '.Repeat = 13 | .NumTags = 0 | .NumLogs = 0'
	run --separate-stderr "$CLIENT_DIR/run"
	assert_success
	assert_equal "$(client_field spans_sent)" 13
	assert_all_counted 13
}

@test "the summary names the tracer and the version installed; NoOp is noop" {
	version=$(jq -r .version "$CLIENT_DIR/node_modules/@opentelemetry/sdk-trace-base/package.json")
	[ -n "$version" ]
	start_satellite
	control '.Repeat = 12'
	run --separate-stderr "$CLIENT_DIR/run"
	assert_success
	assert_equal "$(jq -r .tracer <<<"$output")" "@opentelemetry/sdk-trace-base $version"
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
	run sat_stat '[.requests, .connections] | @tsv'
	assert_output "$(printf '0\t0')"
}

@test "Sleep and SleepInterval are honoured" {
	# 100 spans x 10 ms of debt, paid in 100 ms chunks when the debt
	# exceeds 100 ms, the rest at the end: 1 s at least.
	start_satellite
	control '.Repeat = 100 | .Sleep = 10000000 | .SleepInterval = 100000000 | .Work = 0'
	local t0 t1
	t0=$(date +%s%N)
	run --separate-stderr "$CLIENT_DIR/run"
	t1=$(date +%s%N)
	assert_success
	assert_equal "$(client_field spans_sent)" 100
	local ms=$(((t1 - t0) / 1000000))
	((ms >= 1000)) || fail "took $ms ms, wanted >= 1000"
	((ms < 5000)) || fail "took $ms ms, wanted well under 5 s"
	assert_all_counted 100
}

@test "NoFlush exits at once and counts what it left queued as dropped" {
	start_satellite
	control '.Repeat = 60 | .NoFlush = true | .ReportingPeriodMs = 60000'
	local t0 t1
	t0=$(date +%s%N)
	run --separate-stderr "$CLIENT_DIR/run"
	t1=$(date +%s%N)
	assert_success
	run jq -c '[.spans_sent, .dropped, .unsent, .in_flight, .reports_ok]' <<<"$output"
	assert_output '[60,60,60,0,0]'
	(((t1 - t0) / 1000000 < 5000))
}

@test "a full queue and a down satellite: every span is counted dropped, queue drops apart" {
	# Nothing listens: the first export (a batch of 100) retries until the
	# exporter's timeout, the queue (100) fills behind it, the rest is
	# turned away; the flush then fails what is queued. How many exports
	# the timer starts before the spans are all made depends on the
	# machine's speed; that every span is counted once, queue drops and
	# failed exports from their two sources, does not.
	local port
	port=$(free_port)
	SAT_PORT=$port control '.Repeat = 1000 | .MaxBufferedSpans = 100 | .Work = 0'
	OTEL_EXPORTER_OTLP_TIMEOUT=1500 run --separate-stderr "$CLIENT_DIR/run"
	assert_success
	run jq -c '[.spans_sent, .dropped, .dropped_queue_full + .dropped_export_failed,
		.dropped_queue_full >= 100, .dropped_export_failed >= 200, .dropped_export_failed % 100,
		.unsent, .in_flight, .reports_ok]' <<<"$output"
	assert_output '[1000,1000,1000,true,true,0,0,0,0]'
}

@test "a flush gives up after 4 s on exports still retrying, and counts what it abandons as dropped" {
	# The exporter's own timeout is its default (10 s): against a port
	# nothing listens on, its retries outlast the client's flush.
	local port t0 t1
	port=$(free_port)
	SAT_PORT=$port control '.Repeat = 300'
	t0=$(date +%s%N)
	run --separate-stderr "$CLIENT_DIR/run"
	t1=$(date +%s%N)
	assert_success
	run jq -c '[.spans_sent, .dropped, .in_flight, .unsent, .dropped_export_failed]' <<<"$output"
	assert_output '[300,300,300,0,0]'
	[[ $stderr == *"client.js: gave up waiting for the exports after 4 s"* ]]
	local ms=$(((t1 - t0) / 1000000))
	((ms >= 4000 && ms < 7000)) || fail "took $ms ms, wanted 4 s and a little"
}

@test "Tls: the exporter reports over https to a satellite serving TLS" {
	ltb-satellite --help 2>&1 | grep -q -- '--tls' ||
		skip "ltb-satellite has no --tls yet"
	start_satellite --tls
	control '.Repeat = 300 | .Tls = true'
	run --separate-stderr "$CLIENT_DIR/run"
	assert_success
	run jq -c '[.spans_sent, .dropped, .tls]' <<<"$output"
	assert_output '[300,0,true]'
	assert_all_counted 300
}

@test "Tls with a TlsCaFile: verified against it, refused against another" {
	ltb-satellite --help 2>&1 | grep -q -- '--cert' ||
		skip "ltb-satellite has no --cert yet"
	local n
	for n in ca other; do
		openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
			-addext subjectAltName=IP:127.0.0.1 \
			-keyout "$TMP/$n.key" -out "$TMP/$n.pem" 2>/dev/null
	done
	start_satellite --tls --cert "$TMP/ca.pem" --key "$TMP/ca.key"
	control '.Repeat = 120 | .Tls = true | .TlsCaFile = "'"$TMP/ca.pem"'"'
	run --separate-stderr "$CLIENT_DIR/run"
	assert_success
	assert_equal "$(client_field dropped)" 0
	assert_all_counted 120
	# Not the satellite's certificate: no export gets through, and the
	# client knows it lost every span.
	control '.Repeat = 120 | .Tls = true | .TlsCaFile = "'"$TMP/other.pem"'"'
	run --separate-stderr "$CLIENT_DIR/run"
	assert_success
	run jq -c '[.spans_sent, .dropped, .dropped_export_failed, .reports_ok]' <<<"$output"
	assert_output '[120,120,120,0]'
	assert_equal "$(sat_stat .spans_received)" 120
}

@test "Tls with a TlsCaFile that cannot be read is exit 2 and names it" {
	control '.Tls = true | .TlsCaFile = "/nonexistent/ca.pem"'
	run --separate-stderr "$CLIENT_DIR/run"
	assert_failure 2
	assert_equal "$output" ""
	assert_equal "$stderr" "client.js: cannot create the OpenTelemetry tracer: TlsCaFile: cannot read /nonexistent/ca.pem: ENOENT"
}

@test "a missing control file is exit 2 with a clear message" {
	export LTB_CONTROL_URL=file://$TMP/nothing.json
	run --separate-stderr "$CLIENT_DIR/run"
	assert_failure 2
	assert_equal "$output" ""
	assert_equal "$stderr" "client.js: cannot fetch control message from file://$TMP/nothing.json: no such file"
}

@test "a malformed control message is exit 2 and names the bad key" {
	control '.Repeat = -5'
	run --separate-stderr "$CLIENT_DIR/run"
	assert_failure 2
	assert_equal "$output" ""
	[[ $stderr == "client.js: cannot fetch control message from file://"*": Repeat: not an integer"* ]]
	control '.Tls = "yes"'
	run --separate-stderr "$CLIENT_DIR/run"
	assert_failure 2
	[[ $stderr == *": Tls: not true or false" ]]
}

@test "run says how to set up when node_modules is missing" {
	mkdir "$TMP/client"
	cp "$CLIENT_DIR/run" "$CLIENT_DIR/client.js" "$TMP/client/"
	run -127 --separate-stderr "$TMP/client/run"
	assert_failure 127
	assert_equal "$stderr" "clients/js-otel/run: not set up: run clients/js-otel/setup"
}

# --- through ltb-sample ----------------------------------------------------

# seed_calibration: a calibration of js-otel in the cache, so ltb-sample
# plans from it instead of calibrating. What these tests check is that spans
# arrive, not calibration, which on a loaded machine can take long or be
# inconclusive. A light one: 1e8 multiplications a second (Node does 3 to 10
# times more), and the sleep that makes a run last its runtime whatever the
# machine's speed (5 ms a span at 200 sps), well inside ltb-sample's timeout.
seed_calibration() {
	mkdir -p "$LTB_CACHE_DIR"
	jq -nc --arg host "$(hostname)" '{type:"calibration",v:1,client:"js-otel",
		target_cpu:0.7,sleep_per_work_ns:14.2857,work_per_second:1e8,
		achieved_cpu:0.7,iterations:1,host:$host,created:"test"}' \
		>"$LTB_CACHE_DIR/calibration-js-otel-0.70-$(hostname).json"
}

@test "ltb-sample --client js-otel --trace --sps 200 --runtime 3 receives every span sent" {
	seed_calibration
	run --separate-stderr ltb-sample --client js-otel --trace --sps 200 --runtime 3 \
		--control-port 0
	assert_success
	local r
	r=$(results)
	run jq -r '[.client, .trace, .spans_sent_from, .spans_sent, .spans_received,
		.dropped, .tracer_dropped, .spans_duplicate, .spans_invalid, .error] | @tsv' <<<"$r"
	assert_output "$(printf 'js-otel\ttrue\tclient\t600\t600\t0\t0\t0\t0\t')"
}

@test "ltb-sample --tls: js-otel reports over https, verifying the group's certificate, every span received" {
	seed_calibration
	run --separate-stderr ltb-sample --client js-otel --trace --tls --sps 200 --runtime 2 \
		--control-port 0
	assert_success
	local r
	r=$(results)
	run jq -r '[.spans_sent, .spans_received, .dropped, .tracer_dropped, .error] | @tsv' <<<"$r"
	assert_output "$(printf '400\t400\t0\t0\t')"
}

@test "ltb-sample: a full queue shows in the client's dropped and the result accounts for every span" {
	# No work, no sleep, a queue of 6: a batch goes out at the 6th span,
	# the next 6 wait, and the rest of the spans made before the event loop
	# gets a turn are turned away.
	control_record "$TMP/plan.jsonl" client='"js-otel"' Trace=true \
		Repeat=3000 runtime=1 target_sps=3000 Sleep=0 Work=0 MaxBufferedSpans=6
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 0
	assert_success
	local r
	r=$(results)
	jq -e '.tracer_dropped > 0' <<<"$r" || fail "no span dropped: $r"
	run jq -r '[.spans_sent, .spans_received + .tracer_dropped, .dropped == .tracer_dropped,
		.spans_duplicate, .spans_invalid, .error] | @tsv' <<<"$r"
	assert_output "$(printf '3000\t3000\ttrue\t0\t0\t')"
}
