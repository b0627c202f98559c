#!/usr/bin/env bats
# ltb-satellite's lightstep_thrift protocol: LightStep's Thrift binary
# transport on /_rpc/v1/reports/binary (the legacy Python tracer, the C++
# tracer). Reports are built with python3-thrift (tests/tools/lsthrift.py),
# POSTed with curl to a real satellite on free loopback ports, and its
# answers read back with python3-thrift. The last tests hold our walk
# (tests/tools/lsthriftdecode) to python3-thrift's reading line for line.

load test_helper

LTB_NOT_IN_FRESH_ROOT="the satellite and python3-thrift need nothing a fresh machine lacks that ltb-satellite.bats does not cover there; run on the normal and sanitizer builds"

PY=/usr/bin/python3
THRIFT=application/x-thrift

lsthrift() {
	"$PY" "$LTB_ROOT/tests/tools/lsthrift.py" "$@"
}

# thrift_file NAME ARGS...: a body made by lsthrift.py encode, in $TMP.
thrift_file() {
	local name=$1
	shift
	lsthrift encode "$@" -o "$TMP/$name"
	echo "$TMP/$name"
}

thrift_url() {
	echo "http://127.0.0.1:${1:-$SAT_PORT}/_rpc/v1/reports/binary"
}

# post_thrift FILE [PORT] [CURL ARGS...]: prints "STATUS CONTENT-TYPE"; the
# answer's body goes to $TMP/answer.
post_thrift() {
	local file=$1 port=${2:-$SAT_PORT}
	shift 2 || shift $#
	curl -sS -o "$TMP/answer" -w '%{http_code} %{content_type}' \
		-H "Content-Type: $THRIFT" --data-binary "@$file" "$@" \
		"$(thrift_url "$port")"
}

@test "lsthrift.py --help names its commands" {
	run lsthrift --help
	assert_success
	assert_output --partial "encode"
	assert_output --partial "decode"
	assert_output --partial "mutate"
}

@test "/stats lists lightstep_thrift on its path" {
	start_satellite
	run jq -r '.protocols[] | select(.name == "lightstep_thrift") |
		[.unit, .transport, .path] | @tsv' <<<"$SAT_READY"
	assert_output "$(printf 'span\thttp\t/_rpc/v1/reports/binary')"
}

@test "counts a python3-thrift Report call exactly and answers a REPLY with its timing" {
	body=$(thrift_file r.bin --spans 25 --tags 3 --logs 2 --seqid 31)
	start_satellite
	before=$(date +%s%6N)
	run post_thrift "$body"
	assert_output "200 $THRIFT"
	after=$(date +%s%6N)
	run sat_stat '[.spans_received, .invalid_spans, .duplicate_spans,
		.rejected_reports, .protocols.lightstep_thrift.received,
		.protocols.lightstep_thrift.messages, .protocols.lightstep.received] | @tsv'
	assert_output "$(printf '25\t0\t0\t0\t25\t1\t0')"
	# python3-thrift reads the answer: REPLY (2) of Report, our seqid
	run lsthrift reply "$TMP/answer"
	assert_success
	read -r kind name type seqid receive transmit <<<"$output"
	assert_equal "$kind $name $type $seqid" "reply Report 2 31"
	((before <= receive && receive <= transmit && transmit <= after))
}

@test "reads old non-strict headers and a bare ReportRequest the same" {
	old=$(thrift_file old.bin --form old --spans 4 --seqid 5)
	bare=$(thrift_file bare.bin --form bare --spans 4 --first 100)
	start_satellite
	run post_thrift "$old"
	assert_output "200 $THRIFT"
	run lsthrift reply "$TMP/answer"
	assert_output --regexp '^reply Report 2 5 [0-9]+ [0-9]+$'
	# tracers differ in content type: octet-stream and none are read too
	run post_thrift "$bare" "$SAT_PORT" -H 'Content-Type: application/octet-stream'
	assert_output "200 $THRIFT"
	run lsthrift reply "$TMP/answer"
	assert_output --regexp '^response [0-9]+ [0-9]+$'
	run post_thrift "$bare" "${SAT_PORTS[1]}" -H 'Content-Type:'
	assert_output "200 $THRIFT"
	run sat_stat '[.spans_received, .invalid_spans, .duplicate_spans] | @tsv'
	assert_output "$(printf '12\t0\t4')"
}

@test "a ONEWAY call is counted and answered with no body" {
	body=$(thrift_file o.bin --form oneway --spans 3)
	start_satellite
	run post_thrift "$body"
	assert_output --regexp '^200 '
	[ ! -s "$TMP/answer" ]
	run sat_stat .spans_received
	assert_output 3
}

@test "counts planted invalid spans by reason and duplicates, across reports and ports" {
	body=$(thrift_file bad.bin --spans 10 --invalid no_span_guid \
		--invalid no_trace_guid:2 --invalid no_name --invalid no_start \
		--invalid bad_timestamp:3 --invalid empty_key:2 --dup 4 --unknown)
	join=$(thrift_file join.bin --spans 6 --first 500 --join)
	start_satellite
	run post_thrift "$body"
	assert_output "200 $THRIFT"
	run post_thrift "$join" "${SAT_PORTS[1]}"
	assert_output "200 $THRIFT"
	run sat_stat '[.spans_received, .invalid_spans, .duplicate_spans,
		(.protocols.lightstep_thrift.invalid_by_reason |
		 .no_span_guid, .no_trace_guid, .no_name, .no_start,
		 .bad_timestamp, .empty_key)] | @tsv'
	# 10 + 10 planted + 4 again, then 6 whose trace is a join id
	assert_output "$(printf '30\t10\t4\t1\t2\t1\t1\t3\t2')"
	# the same join report again: all duplicates
	post_thrift "$join"
	run sat_stat '[.spans_received, .duplicate_spans] | @tsv'
	assert_output "$(printf '36\t10')"
}

@test "malformed thrift is 400 with the reason in the body; spans before it count" {
	body=$(thrift_file r.bin --spans 20)
	head -c $(($(wc -c <"$body") - 40)) "$body" >"$TMP/cut.bin"
	printf '\x80\x01\x00\x02\x00\x00\x00\x06Report\x00\x00\x00\x01\x00' >"$TMP/reply.bin"
	printf '\x80\x01\x00\x01\x00\x00\x00\x06Report\x00\x00\x00\x01\x0c\x00\x02\x0b\x00\x03\x00\x00\x00\x00\x00\x00' >"$TMP/type.bin"
	start_satellite
	run post_thrift "$TMP/cut.bin"
	assert_output --regexp '^400 '
	run cat "$TMP/answer"
	assert_output --partial "truncated thrift message"
	run post_thrift "$TMP/reply.bin"
	assert_output --regexp '^400 '
	run cat "$TMP/answer"
	assert_output --partial "not a call"
	run post_thrift "$TMP/type.bin"
	assert_output --regexp '^400 '
	run cat "$TMP/answer"
	assert_output --partial "wrong type"
	run sat_stat '[.rejected_reports, .invalid_spans] | @tsv'
	assert_output "$(printf '3\t0')"
	# the cut report's whole spans were counted as they arrived
	(($(sat_stat .spans_received) >= 15))
}

@test "over-deep nesting is 400 and a huge claimed length is 413, at once" {
	ok=$(thrift_file ok.bin --spans 1 --deep 18)
	deep=$(thrift_file deep.bin --spans 1 --deep 19)
	# a string claiming 2 GiB in a body of 30 bytes
	printf '\x80\x01\x00\x01\x00\x00\x00\x06Report\x00\x00\x00\x01\x0b\x00\x09\x7f\xff\xff\xff' >"$TMP/huge.bin"
	start_satellite
	run post_thrift "$ok"
	assert_output "200 $THRIFT"
	run post_thrift "$deep"
	assert_output --regexp '^400 '
	run cat "$TMP/answer"
	assert_output --partial "nested too deep"
	run post_thrift "$TMP/huge.bin"
	assert_output --regexp '^413 '
	run cat "$TMP/answer"
	assert_output --partial "larger than the body limit"
	# the deep field comes before the spans: only ok.bin's span counts
	run sat_stat '[.spans_received, .rejected_reports] | @tsv'
	assert_output "$(printf '1\t2')"
}

@test "a chunked upload in small pieces is counted the same" {
	body=$(thrift_file r.bin --spans 40 --tags 2 --logs 1)
	start_satellite
	mkfifo "$TMP/pipe"
	curl -sS -o "$TMP/answer" -w '%{http_code}' -X POST -T - \
		-H "Content-Type: $THRIFT" "$(thrift_url)" <"$TMP/pipe" >"$TMP/status" &
	curl_pid=$!
	started "$curl_pid"
	# 97-byte pieces, each flushed on its own
	"$PY" -c '
import sys, time
data = open(sys.argv[1], "rb").read()
with open(sys.argv[2], "wb", buffering=0) as out:
    for i in range(0, len(data), 97):
        out.write(data[i:i + 97])
        time.sleep(0.002)
' "$body" "$TMP/pipe"
	wait "$curl_pid"
	run cat "$TMP/status"
	assert_output 200
	run lsthrift reply "$TMP/answer"
	assert_output --regexp '^reply Report 2 1 '
	run sat_stat '[.spans_received, .invalid_spans, .duplicate_spans, .reports] | @tsv'
	assert_output "$(printf '40\t0\t0\t1')"
}

@test "a gzip body, and --validate full, are counted the same" {
	body=$(thrift_file r.bin --spans 30 --unknown --invalid no_start:2)
	gzip -c "$body" >"$TMP/r.gz"
	start_satellite --validate full
	run post_thrift "$TMP/r.gz" "$SAT_PORT" -H 'Content-Encoding: gzip'
	assert_output "200 $THRIFT"
	run lsthrift reply "$TMP/answer"
	assert_output --regexp '^reply Report 2 1 '
	run sat_stat '[.spans_received, .invalid_spans,
		.protocols.lightstep_thrift.invalid_by_reason.no_start,
		.duplicate_spans] | @tsv'
	assert_output "$(printf '32\t2\t2\t0')"
}

@test "a span sent as thrift binary and again as thrift JSON is a duplicate" {
	body=$(thrift_file r.bin --spans 8 --join)
	# the same guids (encode's: 0000000000000001.., trace 00000000000000aa)
	"$PY" -c '
import json
print(json.dumps({"span_records": [
    {"span_guid": "%016x" % (i + 1), "trace_guid": "00000000000000aa",
     "span_name": "op", "oldest_micros": 10, "youngest_micros": 20}
    for i in range(8)]}))' >"$TMP/r.json"
	start_satellite
	run post_thrift "$body"
	assert_output "200 $THRIFT"
	run curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary "@$TMP/r.json" "http://127.0.0.1:${SAT_PORTS[1]}/api/v0/reports"
	assert_output 200
	run sat_stat '[.spans_received, .invalid_spans, .duplicate_spans,
		.protocols.lightstep_thrift.received,
		.protocols.lightstep_thrift_json.received] | @tsv'
	assert_output "$(printf '16\t0\t8\t8\t8')"
}

@test "our walk reads every seed and hundreds of mutants as python3-thrift does" {
	seeds=("$LTB_ROOT"/tests/fuzz/seeds/lightstep_thrift/*)
	((${#seeds[@]} >= 8))
	lsthrift mutate --seed 1 --count 50 "$TMP/m" "${seeds[@]}"
	files=("${seeds[@]}" "$TMP"/m/*)
	((${#files[@]} >= 400))
	for args in "" "--max-field 64"; do
		# shellcheck disable=SC2086
		lsthrift decode $args "${files[@]}" >"$TMP/py.txt"
		# shellcheck disable=SC2086
		lsthriftdecode $args "${files[@]}" >"$TMP/c.txt"
		# shellcheck disable=SC2086
		lsthriftdecode $args --piece 3 "${files[@]}" >"$TMP/c3.txt"
		run diff "$TMP/py.txt" "$TMP/c.txt"
		assert_success
		run diff "$TMP/py.txt" "$TMP/c3.txt"
		assert_success
	done
	# the mutants reach every verdict, and spans of every kind
	grep -q '^ok ' "$TMP/py.txt"
	grep -q '^malformed$' "$TMP/py.txt"
	grep -q '^too_large$' "$TMP/py.txt"
	grep -q ' valid$' "$TMP/py.txt"
	grep -q ' empty_key$' "$TMP/py.txt"
}
