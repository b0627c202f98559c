#!/usr/bin/env bats
# ltb-satellite-thrift-json: LightStep's thrift report as JSON, POST
# /api/v0/reports (lightstep_thrift_json), on a real ltb-satellite: sent by
# the real npm lightstep-tracer 0.35.0 (transport "thrift") through
# tests/js/argv-client.js, the client of the original command-line
# contract, and by curl with planted invalid spans, duplicates and bodies
# that cannot be read.

load test_helper

LTB_NOT_IN_FRESH_ROOT="the satellite's protocols need nothing a fresh machine lacks; tested on the normal and sanitizer builds"

ARGV_CLIENT=$LTB_ROOT/tests/js/argv-client.js
FIXTURE=$LTB_ROOT/tests/fixtures/lsthrift-json/node-0.35.0.json

setup_file() {
	command -v node >/dev/null || fail "node not found: tests/js needs Node.js"
	[[ -d $LTB_ROOT/tests/js/node_modules/lightstep-tracer ]] ||
		fail "tests/js/node_modules missing: run docker/deps.sh"
}

thrift_url() {
	echo "http://127.0.0.1:${1:-$SAT_PORT}/api/v0/reports"
}

# post_json FILE [CURL ARGS...]: POST a body as application/json; prints
# the status, the answer's body in $TMP/answer.
post_json() {
	local file=$1
	shift
	curl -sS -o "$TMP/answer" -w '%{http_code}' \
		-H 'Content-Type: application/json' --data-binary "@$file" \
		"$@" "$(thrift_url)"
}

tj_stat() {
	sat_stat ".protocols.lightstep_thrift_json | $1"
}

# argv_client ARGS...: the client aimed at the satellite started last,
# every flag given (a small traced run) unless ARGS say otherwise.
argv_client() {
	LTB_ARGV_HOST=127.0.0.1 LTB_ARGV_PORT=$SAT_PORT \
		timeout 60 node "$ARGV_CLIENT" --trace 1 --sleep 0 \
		--sleep_interval 100000000 --work 1000 --repeat 60 --no_flush 0 \
		--num_tags 10 --num_logs 15 "$@"
}

# span JSON-MEMBERS: one SpanRecord object, valid unless MEMBERS change it.
span() {
	jq -nc '{span_guid: "s1", trace_guid: "t1", span_name: "op",
		oldest_micros: 1796284716798161, youngest_micros: 1796284716798783,
		attributes: [{Key: "k", Value: "v"}]} + '"${1:-"{}"}"
}

@test "the ready record lists lightstep_thrift_json, its unit and its path" {
	start_satellite
	run jq -c '.protocols[] | select(.name == "lightstep_thrift_json")' <<<"$SAT_READY"
	assert_output '{"name":"lightstep_thrift_json","unit":"span","transport":"http","path":"/api/v0/reports"}'
}

@test "argv-client --trace 1 reports exactly Repeat spans over thrift JSON, the tracer logging no error" {
	start_satellite
	run --separate-stderr argv_client --repeat 600
	assert_success
	# the original printed nothing; nor did the tracer complain
	assert_equal "$output" ""
	assert_equal "$stderr" ""
	run tj_stat '[.received, .invalid, .duplicates, .rejected_messages] | @tsv'
	assert_output "$(printf '600\t0\t0\t0')"
	run sat_stat '[.spans_received, .invalid_spans, .duplicate_spans, .unknown_path_requests] | @tsv'
	assert_output "$(printf '600\t0\t0\t0')"
	# every span under this protocol, none under the proto one
	assert_equal "$(sat_stat .protocols.lightstep.received)" 0
}

@test "LTB_ARGV_SUMMARY=1 prints ltb's client summary line" {
	start_satellite
	LTB_ARGV_SUMMARY=1 run --separate-stderr argv_client --repeat 13 \
		--num_tags 0 --num_logs 0
	assert_success
	assert_output '{"type":"client","spans_sent":13,"dropped":0}'
	assert_equal "$(tj_stat .received)" 13
}

@test "argv-client --trace 0 sends nothing" {
	start_satellite
	LTB_ARGV_SUMMARY=1 run --separate-stderr argv_client --trace 0 --repeat 600
	assert_success
	assert_output '{"type":"client","spans_sent":600,"dropped":0}'
	assert_equal "$stderr" ""
	run sat_stat '[.spans_received, .requests, .connections] | @tsv'
	assert_output "$(printf '0\t0\t0')"
}

@test "argv-client --no_flush 1 exits without waiting for what is buffered" {
	start_satellite
	# a reporting period (200 ms) never passes: nothing is sent
	run --separate-stderr argv_client --repeat 30 --no_flush 1
	assert_success
	assert_equal "$(sat_stat .spans_received)" 0
}

@test "argv-client pays its sleep debt: Sleep ns per span, SleepInterval at a time" {
	# 60 spans of 10 ms debt: 5 sleeps of 100 ms (the debt must exceed the
	# interval), at least 0.5 s; without sleeping this run takes ~0.1 s.
	start_satellite
	start=$(date +%s%N)
	run argv_client --trace 0 --repeat 60 --sleep 10000000 --sleep_interval 100000000
	assert_success
	ms=$((($(date +%s%N) - start) / 1000000))
	((ms >= 500)) || fail "took $ms ms, not at least 500"
}

@test "argv-client refuses unknown flags, missing values and missing flags with exit 2" {
	run --separate-stderr node "$ARGV_CLIENT" --help
	assert_success
	assert_line --index 0 --partial "usage: argv-client.js --trace 0|1 --sleep NS --sleep_interval NS"
	run --separate-stderr argv_client --frobnicate 1
	assert_failure 2
	assert_equal "$output" ""
	[[ $stderr == *"unknown argument '--frobnicate'"*"usage: argv-client.js"* ]]
	run --separate-stderr argv_client --repeat
	assert_failure 2
	[[ $stderr == *"--repeat needs a value"* ]]
	run --separate-stderr argv_client --trace 2
	assert_failure 2
	[[ $stderr == *"--trace: '2' is not a whole number from 0 to 1"* ]]
	run --separate-stderr node "$ARGV_CLIENT" --trace 1 --sleep 0
	assert_failure 2
	[[ $stderr == *"missing --sleep_interval"* ]]
}

@test "the body the tracer really sends, plain and gzipped, is 200 with a ReportResponse" {
	start_satellite
	run post_json "$FIXTURE"
	assert_output 200
	run jq -c '[(.timing.receive_micros > 0), (.timing.transmit_micros >= .timing.receive_micros), .commands]' "$TMP/answer"
	assert_output '[true,true,[]]'
	gzip -c "$FIXTURE" >"$TMP/r.gz"
	run post_json "$TMP/r.gz" -H 'Content-Encoding: gzip'
	assert_output 200
	# the same four spans again: duplicates, whatever the encoding
	run tj_stat '[.received, .invalid, .duplicates, .messages] | @tsv'
	assert_output "$(printf '8\t0\t4\t2')"
}

@test "planted invalid spans and duplicates are counted by reason" {
	start_satellite
	{
		span '{span_guid: "a"}'
		span '{span_guid: "b", trace_guid: null, join_ids: [{TraceKey: "trace_guid", Value: "t9"}]}'
		span '{span_guid: "b", trace_guid: "t9"}'
		span '{span_guid: ""}'
		span '{span_guid: "c", trace_guid: null}'
		span '{span_guid: "d", span_name: ""}'
		span '{span_guid: "e", oldest_micros: null}'
		span '{span_guid: "f", youngest_micros: 5}'
		span '{span_guid: "g", oldest_micros: "-1"}'
		span '{span_guid: "h", attributes: [{Key: "", Value: "v"}]}'
		span '{span_guid: "a"}'
	} | jq -sc '{span_records: .}' >"$TMP/planted.json"
	run post_json "$TMP/planted.json"
	assert_output 200
	run tj_stat '[.received, .invalid, .duplicates] | @tsv'
	assert_output "$(printf '11\t7\t2')"
	run tj_stat '.invalid_by_reason | [.no_span_guid, .no_trace_guid, .no_name, .no_start, .bad_timestamp, .empty_key] | @tsv'
	assert_output "$(printf '1\t1\t1\t1\t2\t1')"
}

@test "bodies that are not a thrift report are 400 with a reason, nothing counted" {
	start_satellite
	printf '{"span_records": [' >"$TMP/cut.json"
	run post_json "$TMP/cut.json"
	assert_output 400
	run cat "$TMP/answer"
	assert_output --partial "body is not JSON"
	printf '[]' >"$TMP/array.json"
	run post_json "$TMP/array.json"
	assert_output 400
	run cat "$TMP/answer"
	assert_output --partial "body is not a JSON object"
	printf '{"span_records": {"span_guid": "a"}}' >"$TMP/obj.json"
	run post_json "$TMP/obj.json"
	assert_output 400
	run cat "$TMP/answer"
	assert_output --partial "span_records is not an array"
	span '{span_guid: 7}' | jq -c '{span_records: [.]}' >"$TMP/guid.json"
	run post_json "$TMP/guid.json"
	assert_output 400
	run cat "$TMP/answer"
	assert_output --partial "span_guid is not a string"
	span '{oldest_micros: 1.5}' | jq -c '{span_records: [.]}' >"$TMP/time.json"
	run post_json "$TMP/time.json"
	assert_output 400
	run cat "$TMP/answer"
	assert_output --partial "oldest_micros is not a 64-bit integer"
	run sat_stat '[.spans_received, .rejected_reports, .rejected.malformed] | @tsv'
	assert_output "$(printf '0\t5\t5')"
	# not JSON at all: 415 for another content type
	run curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/x-thrift' \
		--data-binary "@$FIXTURE" "$(thrift_url)"
	assert_output 415
}

@test "a body over --max-body is 413" {
	start_satellite --max-body 1K
	run post_json "$FIXTURE"
	assert_output 413
	run sat_stat '[.spans_received, .rejected.too_large] | @tsv'
	assert_output "$(printf '0\t1')"
}
