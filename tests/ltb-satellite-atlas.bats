#!/usr/bin/env bats
# ltb-satellite-atlas: Atlas publish on the satellites' HTTP ports, POST
# /api/v1/publish, sent by curl to a real ltb-satellite: each measurement
# counted, answered as Atlas does (200; 202 "partial" with errorCount; 400
# "error"), a body that is not a payload refused with 400, gzip inflated
# by the group. Both bodies: Atlas's batch and nflx-spectator 1.0.0's
# compact array.

load test_helper

LTB_NOT_IN_FRESH_ROOT="the satellite's protocols need nothing a fresh machine lacks; tested on the normal and sanitizer builds"

publish_url() {
	echo "http://127.0.0.1:${1:-$SAT_PORT}/api/v1/publish"
}

# publish FILE [CURL ARGS...]: POST a body as application/json; prints
# the status, the answer's body in $TMP/answer.
publish() {
	local file=$1
	shift
	curl -sS -o "$TMP/answer" -w '%{http_code}' \
		-H 'Content-Type: application/json' --data-binary "@$file" \
		"$@" "$(publish_url)"
}

now_ms() {
	echo $(($(date +%s) * 1000))
}

# batch FILE N [NAME]: a batch of N metrics named NAME.i (default ltb.m),
# stamped now, with common tags, in $TMP/FILE.
batch() {
	jq -nc --argjson n "$2" --argjson ts "$(now_ms)" --arg name "${3:-ltb.m}" '{
		tags: {"nf.app": "ltb", "nf.node": "i-1"},
		metrics: [range($n) | {tags: {name: "\($name).\(.)", statistic: "count"},
			timestamp: $ts, value: .}]
	}' >"$TMP/$1"
}

atlas_stat() {
	sat_stat ".protocols.atlas | $1"
}

@test "the ready record lists atlas, its unit and its path" {
	start_satellite
	run jq -c '.protocols[] | select(.name == "atlas")' <<<"$SAT_READY"
	assert_output '{"name":"atlas","unit":"measurement","transport":"http","path":"/api/v1/publish"}'
}

@test "a batch of 250 metrics is 200 with nothing, each metric counted once" {
	start_satellite
	batch b.json 250
	run publish "$TMP/b.json"
	assert_output 200
	assert_equal "$(stat -c %s "$TMP/answer")" 0
	run sat_stat '[.spans_received, .invalid_spans, .duplicate_spans, .rejected_reports] | @tsv'
	assert_output "$(printf '250\t0\t0\t0')"
	run atlas_stat '[.unit, .received, .invalid, .messages] | @tsv'
	assert_output "$(printf 'measurement\t250\t0\t1')"
	# A measurement has no identity: the same batch again is no duplicate.
	run publish "$TMP/b.json"
	assert_output 200
	run sat_stat '[.spans_received, .duplicate_spans] | @tsv'
	assert_output "$(printf '500\t0')"
}

@test "some invalid: 202 partial with errorCount and messages, each counted by reason" {
	start_satellite
	jq -nc --argjson ts "$(now_ms)" '{metrics: [
		{tags: {name: "ok.one"}, timestamp: $ts, value: 1},
		{tags: {name: "ok.two"}, timestamp: $ts, value: 2},
		{tags: {noname: "x"}, timestamp: $ts, value: 1},
		{tags: {name: "bad/chars"}, timestamp: $ts, value: 1},
		{tags: {name: "old.one"}, timestamp: ($ts - 3600000), value: 1},
		{tags: {name: "bad.value"}, timestamp: $ts, value: "lots"}
	]}' >"$TMP/p.json"
	run publish "$TMP/p.json"
	assert_output 202
	run jq -c '[.type, .errorCount, (.message | length), (.message[0] | test("missing key .name."))]' "$TMP/answer"
	assert_output '["partial",4,4,true]'
	run sat_stat '[.spans_received, .invalid_spans, .rejected_reports] | @tsv'
	assert_output "$(printf '6\t4\t0')"
	run atlas_stat '.invalid_by_reason | [.missing_name, .bad_characters, .data_too_old, .bad_value] | @tsv'
	assert_output "$(printf '1\t1\t1\t1')"
}

@test "none valid: 400 error with errorCount, the measurements still counted" {
	start_satellite
	jq -nc --argjson ts "$(now_ms)" '{metrics: [
		{tags: {name: "x"}, timestamp: $ts, value: 1},
		{tags: {name: "ab", "nf.bogus": "z"}, timestamp: $ts, value: 1}]}' >"$TMP/n.json"
	run publish "$TMP/n.json"
	assert_output 400
	run jq -c '[.type, .errorCount]' "$TMP/answer"
	assert_output '["error",2]'
	run atlas_stat '[.received, .invalid, .invalid_by_reason.value_length, .invalid_by_reason.reserved_key] | @tsv'
	assert_output "$(printf '2\t2\t1\t1')"
}

@test "a body that is not a publish payload is 400, rejected as malformed, nothing counted" {
	start_satellite
	for body in '{"metrics":' 'not json' '{"metrics":[]}' '{"metrics":{}}' \
		'{"other":1}' '[3,"name"' '[2,"name","ab",1,0,1]' '"x"'; do
		printf '%s' "$body" >"$TMP/m.json"
		run publish "$TMP/m.json"
		assert_output 400
		run jq -r '.type' "$TMP/answer"
		assert_output error
	done
	run sat_stat '[.spans_received, .rejected_reports, .rejected.malformed] | @tsv'
	assert_output "$(printf '0\t8\t8')"
}

@test "a content type other than JSON is 415" {
	start_satellite
	batch b.json 3
	run curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/x-jackson-smile' \
		--data-binary "@$TMP/b.json" "$(publish_url)"
	assert_output 415
	run atlas_stat '[.received, .rejected.unsupported_media_type] | @tsv'
	assert_output "$(printf '0\t1')"
}

@test "a gzip body is inflated by the group and counted like a plain one" {
	start_satellite
	batch b.json 100
	gzip -c "$TMP/b.json" >"$TMP/b.json.gz"
	run publish "$TMP/b.json.gz" -H 'Content-Encoding: gzip'
	assert_output 200
	run atlas_stat '[.received, .invalid] | @tsv'
	assert_output "$(printf '100\t0')"
	# and bytes counted are the wire's, smaller than the JSON
	run atlas_stat '.bytes'
	assert_equal "$output" "$(stat -c %s "$TMP/b.json.gz")"
}

@test "nflx-spectator's compact array: each measurement counted, characters replaced as the aggregator does" {
	start_satellite
	# As nflx-spectator 1.0.0's Publisher builds it: a sorted string
	# table, then per measurement its tag count, key and value positions,
	# op (0 add, 10 max) and value. The second has the tag the library's
	# own ipc.client.call meter carries, ipc.endpoint=/api/v1/publish:
	# the atlas-aggregator this form is for replaces the '/', so it is
	# valid; the third's name is too short.
	printf '%s' '[7,"/api/v1/publish","count","ipc.endpoint","ltb.counter","name","statistic","x",2,4,3,5,1,0,7,3,4,3,2,0,5,1,10,0.25]' >"$TMP/c.json"
	run publish "$TMP/c.json"
	assert_output 200
	printf '%s' '[7,"/api/v1/publish","count","ipc.endpoint","ltb.counter","name","statistic","x",2,4,3,5,1,0,7,3,4,3,2,0,5,1,10,0.25,1,4,6,0,1]' >"$TMP/c.json"
	run publish "$TMP/c.json"
	assert_output 202
	run jq -c '[.type, .errorCount]' "$TMP/answer"
	assert_output '["partial",1]'
	run atlas_stat '[.received, .invalid, .invalid_by_reason.value_length, .invalid_by_reason.bad_characters] | @tsv'
	assert_output "$(printf '5\t1\t1\t0')"
}

@test "a script's partial_success is a 202 with its count" {
	start_satellite
	run curl -sS -o /dev/null -w '%{http_code}' -X POST --data-binary \
		'[{"at_s": 0, "for_s": 60, "partial_success": 2}]' "$SAT_ADMIN/script"
	assert_output 200
	batch b.json 5
	run publish "$TMP/b.json"
	assert_output 202
	run jq -c '[.type, .errorCount]' "$TMP/answer"
	assert_output '["partial",2]'
}
