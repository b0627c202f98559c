#!/usr/bin/env bats
# ltb-satellite: the mock collector group, started for real on free
# loopback ports and spoken to with curl.

load test_helper

LTB_NOT_IN_FRESH_ROOT="the satellite needs nothing a fresh machine lacks that client-c.bats and make demo do not use there; run on the normal and sanitizer builds"

# --- usage -----------------------------------------------------------------

@test "--help prints the usage on stdout and exits 0" {
	run ltb-satellite --help
	assert_success
	assert_line --partial "usage: ltb-satellite"
	assert_line --partial "--bandwidth"
	assert_line --partial "Exit: 0"
}

@test "an unknown flag prints the usage on stderr and exits 2" {
	run --separate-stderr ltb-satellite --frobnicate
	assert_failure 2
	assert_equal "$output" ""
	[[ $stderr == *"usage: ltb-satellite"* ]]
}

@test "a bad port list is a usage error that names it" {
	run ltb-satellite --ports 8360-
	assert_failure 2
	assert_line --partial "ltb-satellite: bad --ports '8360-'"
}

@test "an unknown mode is a usage error" {
	run ltb-satellite --mode sometimes
	assert_failure 2
	assert_line --partial "unknown mode 'sometimes'"
}

@test "a port already in use fails with exit 3 and says which" {
	start_satellite
	run ltb-satellite --ports "$SAT_PORT" --admin-port 0
	assert_failure 3
	assert_output "ltb-satellite: cannot bind 127.0.0.1:$SAT_PORT: Address already in use"
}

# --- ready and stop --------------------------------------------------------

@test "prints one ready record once every port accepts connections" {
	start_satellite --ports 0,0,0
	run jq -r '[.type, .v, (.ports|length), .pid, .mode, .bind] | @tsv' <<<"$SAT_READY"
	assert_output "$(printf 'ready\t1\t3\t%s\ttypical\t127.0.0.1' "$SAT_PID")"
	[[ $SAT_ADMIN == http://127.0.0.1:* ]]
	for port in "${SAT_PORTS[@]}"; do
		run curl -sS "http://127.0.0.1:$port/spans_received"
		assert_success
		assert_output "0"
	done
	run wc -l <"$SAT_OUT"
	assert_output "1"
}

@test "SIGTERM prints a final stats record and exits 0" {
	report=$(mkreport_file r.bin --spans 7)
	start_satellite
	run post_report "$report"
	assert_output 200
	kill -TERM "$SAT_PID"
	wait "$SAT_PID"
	run jq -r 'select(.type == "stats") | .spans_received' "$SAT_OUT"
	assert_output 7
}

@test "SIGINT stops it the same way" {
	start_satellite
	kill -INT "$SAT_PID"
	wait "$SAT_PID"
	run jq -r '.type' "$SAT_OUT"
	assert_output "$(printf 'ready\nstats')"
}

@test "binds to ::1 when asked" {
	[[ -e /proc/net/if_inet6 ]] || skip "no IPv6 on this machine"
	start_satellite --bind ::1
	[[ $SAT_ADMIN == "http://[::1]:"* ]]
	run curl -sS -g "http://[::1]:$SAT_PORT/spans_received"
	assert_output "0"
}

# --- reports ---------------------------------------------------------------

@test "counts the spans, reports and bytes of a report" {
	report=$(mkreport_file r.bin --spans 100)
	start_satellite
	run post_report "$report"
	assert_output 200
	run curl -sS "$SAT_ADMIN/spans_received"
	assert_output 100
	run sat_stat '[.spans_received, .reports, .bytes, .invalid_spans, .duplicate_spans, .rejected_reports] | @tsv'
	assert_output "$(printf '100\t1\t%s\t0\t0\t0' "$(wc -c <"$report")")"
}

@test "answers a protobuf ReportResponse with receive and transmit times" {
	report=$(mkreport_file r.bin --spans 3)
	start_satellite
	run curl -sS -D "$TMP/headers" -o "$TMP/answer" --data-binary "@$report" "$(report_url)"
	grep -qi '^content-type: application/octet-stream' "$TMP/headers"
	# Field 2 (receive_timestamp) then field 3 (transmit_timestamp), each
	# a message holding the seconds as a varint.
	run od -An -tx1 -N1 "$TMP/answer"
	assert_output " 12"
	run lsdecode response "$TMP/answer"
	assert_success
	assert_line --regexp '^receive_ns [0-9]{19}$'
	assert_line --regexp '^transmit_ns [0-9]{19}$'
}

@test "each port counts its own spans and the admin port sums them" {
	a=$(mkreport_file a.bin --spans 10 --seed 1)
	b=$(mkreport_file b.bin --spans 20 --seed 2)
	start_satellite
	post_report "$a" "${SAT_PORTS[0]}"
	post_report "$b" "${SAT_PORTS[1]}"
	run curl -sS "http://127.0.0.1:${SAT_PORTS[0]}/spans_received"
	assert_output 10
	run curl -sS "http://127.0.0.1:${SAT_PORTS[1]}/spans_received"
	assert_output 20
	run curl -sS "$SAT_ADMIN/spans_received"
	assert_output 30
	run sat_stat '[.ports[].spans_received] | @csv'
	assert_output "10,20"
}

@test "reads a chunked report" {
	report=$(mkreport_file r.bin --spans 250)
	start_satellite
	run post_report "$report" "$SAT_PORT" -H 'Transfer-Encoding: chunked'
	assert_output 200
	run sat_stat .spans_received
	assert_output 250
}

@test "keeps the connection alive between reports" {
	report=$(mkreport_file r.bin --spans 5)
	start_satellite
	url=$(report_url)
	run curl -sS -w '%{http_code} %{num_connects}\n' --data-binary "@$report" \
		-o /dev/null "$url" -o /dev/null "$url" -o /dev/null "$url"
	assert_output "$(printf '200 1\n200 0\n200 0')"
	run sat_stat .reports
	assert_output 3
}

@test "counts a streamed chunked request as its spans arrive, in bounded memory" {
	# Concatenated reports are one valid report: this streams 1,000 spans
	# per piece into one long chunked request.
	report=$(mkreport_file r.bin --spans 1000)
	start_satellite --bandwidth 0 --max-body 0
	mkfifo "$TMP/pipe"
	curl -sS -o "$TMP/answer" -w '%{http_code}' -X POST -T - \
		-H 'Content-Type: application/octet-stream' \
		"$(report_url)" <"$TMP/pipe" >"$TMP/status" &
	started $!
	curl_pid=$!
	exec 7>"$TMP/pipe"
	for i in $(seq 20); do cat "$report" >&7; done
	# The request is still open, yet its spans are counted.
	spans_at_least() { (($(curl -sS "$SAT_ADMIN/spans_received") >= $1)); }
	wait_for 20 spans_at_least 19000
	kill -0 "$curl_pid"
	for i in $(seq 180); do cat "$report" >&7; done
	exec 7>&-
	wait "$curl_pid"
	run cat "$TMP/status"
	assert_output 200
	run sat_stat '[.spans_received, .reports, .duplicate_spans] | @tsv'
	# The same 1,000 ids 200 times: all but the first 1,000 are duplicates.
	assert_output "$(printf '200000\t1\t199000')"
	# About 190 MB went through; the satellite never held it.
	(($(rss_peak "$SAT_PID") < 40000))
}

@test "--validate full counts the same as the walk" {
	report=$(mkreport_file r.bin --spans 300)
	bad=$(mkreport_file bad.bin --spans 5 --invalid zero_span_id)
	start_satellite --validate full
	post_report "$report"
	post_report "$bad"
	run sat_stat '[.spans_received, .invalid_spans, .invalid.zero_span_id] | @tsv'
	assert_output "$(printf '305\t5\t5')"
	run jq -r .validate <<<"$SAT_READY"
	assert_output full
}

@test "counts exactly under four concurrent senders" {
	start_satellite --ports 0,0,0,0 --bandwidth 0
	pids=()
	for i in 0 1 2 3; do
		mkreport --spans 1000 --seed $((i + 1)) >"$TMP/r$i.bin"
		urls=()
		for j in $(seq 50); do urls+=(-o /dev/null "$(report_url "${SAT_PORTS[i]}")"); done
		curl -sS -w '%{http_code}\n' --data-binary "@$TMP/r$i.bin" \
			"${urls[@]}" >"$TMP/status$i" &
		pids+=($!)
		started $!
	done
	for p in "${pids[@]}"; do wait "$p"; done
	run sort -u "$TMP"/status*
	assert_output 200
	run sat_stat '[.spans_received, .reports, .rejected_reports] | @tsv'
	assert_output "$(printf '200000\t200\t0')"
}

# --- validation ------------------------------------------------------------

@test "flags invalid spans by reason and still counts them" {
	start_satellite
	for why in no_context zero_trace_id zero_span_id no_operation no_start \
		bad_timestamp bad_reference empty_key; do
		mkreport --spans 2 --seed 7 --invalid "$why" >"$TMP/$why.bin"
		run post_report "$TMP/$why.bin"
		assert_output 200
		run sat_stat ".invalid.$why"
		assert_output 2
	done
	run sat_stat '[.spans_received, .invalid_spans] | @tsv'
	assert_output "$(printf '16\t16')"
}

@test "flags spans sent twice as duplicates, across reports and ports" {
	report=$(mkreport_file r.bin --spans 40)
	dup=$(mkreport_file d.bin --spans 10 --seed 9 --duplicates 1)
	start_satellite
	post_report "$report" "${SAT_PORTS[0]}"
	post_report "$report" "${SAT_PORTS[1]}"
	post_report "$dup"
	run sat_stat '[.spans_received, .duplicate_spans, .invalid_spans] | @tsv'
	assert_output "$(printf '100\t50\t0')"
}

@test "answers a malformed report with 400 and a reason, counting it rejected" {
	# Spans are counted as they arrive: the two whole spans before the
	# damage in a truncated or badwire report count; garbage has none.
	start_satellite
	for kind in truncated badwire garbage; do
		mkreport --spans 3 --malformed "$kind" >"$TMP/$kind.bin"
		run post_report "$TMP/$kind.bin"
		assert_output 400
		run cat "$TMP/answer"
		assert_output --partial "malformed report: "
	done
	run sat_stat '[.spans_received, .reports, .rejected.malformed] | @tsv'
	assert_output "$(printf '4\t0\t3')"
}

@test "answers an empty report with 200 and counts no spans" {
	start_satellite
	: >"$TMP/empty.bin"
	run post_report "$TMP/empty.bin"
	assert_output 200
	run sat_stat '[.spans_received, .reports] | @tsv'
	assert_output "$(printf '0\t1')"
}

# --- modes -----------------------------------------------------------------

@test "slow_fail answers 400 and counts nothing" {
	report=$(mkreport_file r.bin --spans 50)
	start_satellite --mode slow_fail
	run post_report "$report"
	assert_output 400
	run sat_stat '[.spans_received, .reports, .bytes, .rejected.slow_fail] | @tsv'
	assert_output "$(printf '0\t0\t0\t1')"
}

@test "slow_succeed holds each report 1 us per span, then counts it" {
	report=$(mkreport_file r.bin --spans 200000 --tags 0 --logs 0)
	start_satellite --mode slow_succeed --bandwidth 0
	run curl -sS -o /dev/null -w '%{http_code} %{time_total}' --data-binary "@$report" "$(report_url)"
	read -r code secs <<<"$output"
	assert_equal "$code" 200
	# 200,000 spans at 1 us: at least 0.2 s.
	awk -v s="$secs" 'BEGIN { exit !(s >= 0.2) }'
	run sat_stat .spans_received
	assert_output 200000
}

@test "a slow report does not hold back other connections" {
	big=$(mkreport_file big.bin --spans 600000 --tags 0 --logs 0)
	small=$(mkreport_file small.bin --spans 1 --seed 5)
	start_satellite --mode slow_succeed --bandwidth 0 --max-body 0
	# 0.6 s of delay for the big one, once it is read.
	curl -sS -o /dev/null --data-binary "@$big" "$(report_url)" &
	big_pid=$!
	started $big_pid
	bytes_at_least() { (($(sat_stat .bytes) >= $1)); }
	wait_for 20 bytes_at_least "$(wc -c <"$big")"
	curl -sS -X POST -d typical "$SAT_ADMIN/mode" >/dev/null
	run post_report "$small"
	assert_output 200
	# The small one came back while the big one still waits.
	kill -0 "$big_pid"
	run sat_stat .reports
	assert_output 1
	wait "$big_pid"
	run sat_stat '[.reports, .spans_received] | @tsv'
	assert_output "$(printf '2\t600001')"
}

@test "POST /mode changes the mode; an unknown one is refused" {
	report=$(mkreport_file r.bin --spans 4)
	start_satellite
	run curl -sS -X POST -d slow_fail "$SAT_ADMIN/mode"
	assert_success
	run jq -r .mode <<<"$output"
	assert_output slow_fail
	run post_report "$report"
	assert_output 400
	run curl -sS -o /dev/null -w '%{http_code}' -X POST "$SAT_ADMIN/mode?mode=typical"
	assert_output 200
	run post_report "$report"
	assert_output 200
	run curl -sS -w ' %{http_code}' -X POST -d bogus "$SAT_ADMIN/mode"
	assert_output --partial "unknown mode 'bogus'"
	assert_output --partial " 400"
	run sat_stat .mode
	assert_output typical
}

# --- admin -----------------------------------------------------------------

@test "POST /reset zeroes every counter" {
	report=$(mkreport_file r.bin --spans 12)
	start_satellite
	post_report "$report"
	run curl -sS -X POST "$SAT_ADMIN/reset"
	assert_success
	run sat_stat '[.spans_received, .reports, .bytes, .duplicate_spans] | @tsv'
	assert_output "$(printf '0\t0\t0\t0')"
	# Forgotten ids: the same report again is not a duplicate.
	post_report "$report"
	run sat_stat '[.spans_received, .duplicate_spans] | @tsv'
	assert_output "$(printf '12\t0')"
}

@test "POST /down refuses connections while the admin port stays up; /up restores" {
	report=$(mkreport_file r.bin --spans 6)
	start_satellite
	post_report "$report"
	run curl -sS -X POST "$SAT_ADMIN/down"
	assert_success
	run jq -r .up <<<"$output"
	assert_output false
	for port in "${SAT_PORTS[@]}"; do
		run curl -sS "http://127.0.0.1:$port/spans_received"
		assert_failure 7    # curl: could not connect
		run bash -c "exec 7<>/dev/tcp/127.0.0.1/$port"
		assert_failure
		assert_output --partial "Connection refused"
	done
	run curl -sS "$SAT_ADMIN/spans_received"
	assert_output 6
	run curl -sS -X POST "$SAT_ADMIN/up"
	run jq -r .up <<<"$output"
	assert_output true
	run post_report "$report" "${SAT_PORTS[1]}"
	assert_output 200
	run curl -sS "$SAT_ADMIN/spans_received"
	assert_output 12
}

@test "POST /down drops connections that are open" {
	report=$(mkreport_file r.bin --spans 100)
	start_satellite --max-body 0
	mkfifo "$TMP/pipe"
	curl -sS -o /dev/null -X POST -T - "$(report_url)" <"$TMP/pipe" 2>"$TMP/curl.err" &
	curl_pid=$!
	started $curl_pid
	exec 7>"$TMP/pipe"
	cat "$report" >&7
	spans_at_least() { (($(curl -sS "$SAT_ADMIN/spans_received") >= $1)); }
	wait_for 10 spans_at_least 100
	curl -sS -X POST "$SAT_ADMIN/down" >/dev/null
	# The satellite's end of the connection is gone at once ...
	closed() { ! ss -Htn state established "( sport = :$SAT_PORT )" | grep -q :; }
	wait_for 10 closed
	# ... and the tracer's side sees its report end without an answer.
	exec 7>&-
	run wait "$curl_pid"
	assert_failure
	run cat "$TMP/curl.err"
	assert_output --regexp "Empty reply|Send failure|Recv failure|reset"
}

@test "unknown admin paths are 404 and wrong methods 405" {
	start_satellite
	run curl -sS -o /dev/null -w '%{http_code}' "$SAT_ADMIN/nope"
	assert_output 404
	run curl -sS -o /dev/null -w '%{http_code}' "$SAT_ADMIN/down"
	assert_output 405
	run curl -sS -o /dev/null -w '%{http_code}' -X POST "$SAT_ADMIN/stats"
	assert_output 405
}

# --- what arrived that was not a report (diagnosing silence) --------------

@test "counts connections, even those that send no request" {
	start_satellite
	run sat_stat '[.connections, .requests] | @tsv'
	assert_output "$(printf '0\t0')"
	exec 7<>"/dev/tcp/127.0.0.1/$SAT_PORT"
	connections_at_least() { (($(sat_stat .connections) >= $1)); }
	wait_for 5 connections_at_least 1
	exec 7>&-
	run curl -sS "http://127.0.0.1:${SAT_PORTS[1]}/spans_received"
	run sat_stat '[.connections, .requests, (.ports | map([.port, .connections, .requests] | @csv) | join(" "))] | @tsv'
	assert_output "$(printf '2\t1\t%s,1,0 %s,1,1' "$SAT_PORT" "${SAT_PORTS[1]}")"
}

@test "counts requests to paths no protocol serves, by path, per port and summed" {
	start_satellite
	post() { curl -sS -o /dev/null -w '%{http_code}\n' --data-binary x "http://127.0.0.1:$1$2"; }
	run post "$SAT_PORT" /api/v2/spans
	assert_output 404
	post "$SAT_PORT" /api/v2/spans
	post "${SAT_PORTS[1]}" /api/v2/spans
	post "${SAT_PORTS[1]}" /made/up
	run sat_stat '[.requests, .unknown_path_requests, .unknown_paths["/api/v2/spans"], .unknown_paths["/made/up"], .unknown_paths_other] | @tsv'
	assert_output "$(printf '4\t4\t3\t1\t0')"
	run sat_stat '.ports | map(.unknown_paths | to_entries | map("\(.key)=\(.value)") | join(",")) | join(" ")'
	assert_output "/api/v2/spans=2 /api/v2/spans=1,/made/up=1"
	# Nothing of it is a span or a report.
	run sat_stat '[.spans_received, .reports, .rejected_reports] | @tsv'
	assert_output "$(printf '0\t0\t0')"
}

@test "keeps at most 16 unknown paths, cut short and made safe; the rest as other" {
	start_satellite
	for i in $(seq 1 20); do
		curl -sS -o /dev/null "http://127.0.0.1:$SAT_PORT/p$i"
	done
	long=/$(printf 'a%.0s' $(seq 1 300))
	curl -sS -o /dev/null "http://127.0.0.1:${SAT_PORTS[1]}$long"
	curl -sS -o /dev/null "http://127.0.0.1:${SAT_PORTS[1]}/x%0Ay%22z%5C%C3%A9"
	run sat_stat '[(.unknown_paths | length), .unknown_paths_other, .unknown_path_requests, .unknown_paths["/p1"], .unknown_paths["/p16"], (.unknown_paths | has("/p17"))] | @tsv'
	assert_output "$(printf '16\t6\t22\t1\t1\tfalse')"
	# The second port has its own table, so both odd paths are there.
	run sat_stat '.ports[1].unknown_paths | keys | map(length) | @csv'
	assert_output "64,9"
	run sat_stat '.ports[1].unknown_paths | keys[0]'
	assert_output "/$(printf 'a%.0s' $(seq 1 60))..."
	run sat_stat '.ports[1].unknown_paths | keys[1]'
	assert_output '/x?y?z???'
	# The final stats record has them too.
	kill -TERM "$SAT_PID"
	wait "$SAT_PID"
	run jq -r 'select(.type == "stats") | .unknown_path_requests' "$SAT_OUT"
	assert_output 22
}

@test "counts rejected reports by reason, per port" {
	report=$(mkreport_file r.bin --spans 100)
	mkreport --spans 3 --malformed garbage >"$TMP/bad.bin"
	start_satellite --max-body 10K
	run post_report "$TMP/bad.bin" "${SAT_PORTS[1]}"
	assert_output 400
	run post_report "$report"
	assert_output 413
	run curl -sS -o /dev/null -w '%{http_code}' "$(report_url)"
	assert_output 405
	curl -sS -X POST -d slow_fail "$SAT_ADMIN/mode" >/dev/null
	mkreport --spans 1 >"$TMP/one.bin"
	run post_report "$TMP/one.bin" "${SAT_PORTS[1]}"
	assert_output 400
	run sat_stat '[.rejected_reports, .rejected.malformed, .rejected.too_large, .rejected.wrong_method, .rejected.slow_fail, .requests] | @tsv'
	assert_output "$(printf '4\t1\t1\t1\t1\t4')"
	run sat_stat '.ports | map(.rejected | to_entries | map(select(.value > 0) | "\(.key)=\(.value)") | join(",")) | join(" ")'
	assert_output "too_large=1,wrong_method=1 malformed=1,slow_fail=1"
}

@test "each port keeps its invalid spans by reason" {
	mkreport --spans 2 --seed 7 --invalid no_context >"$TMP/a.bin"
	mkreport --spans 3 --seed 8 --invalid zero_span_id >"$TMP/b.bin"
	start_satellite
	post_report "$TMP/a.bin"
	post_report "$TMP/b.bin" "${SAT_PORTS[1]}"
	run sat_stat '[.ports[0].invalid.no_context, .ports[0].invalid.zero_span_id, .ports[1].invalid.zero_span_id, .invalid.no_context, .invalid.zero_span_id] | @tsv'
	assert_output "$(printf '2\t0\t3\t2\t3')"
}

@test "POST /reset zeroes connections, requests and unknown paths" {
	start_satellite
	curl -sS -o /dev/null "http://127.0.0.1:$SAT_PORT/nope"
	curl -sS -X POST "$SAT_ADMIN/reset" >/dev/null
	run sat_stat '[.connections, .requests, .unknown_path_requests, (.unknown_paths | length), (.ports[0].unknown_paths | length)] | @tsv'
	assert_output "$(printf '0\t0\t0\t0\t0')"
}

# --- limits and bad input --------------------------------------------------

@test "an unknown path on a satellite is 404, GET on reports 405" {
	start_satellite
	run curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SAT_PORT/nope"
	assert_output 404
	run curl -sS -o /dev/null -w '%{http_code}' "$(report_url)"
	assert_output 405
}

@test "malformed HTTP is answered 400" {
	start_satellite
	exec 7<>"/dev/tcp/127.0.0.1/$SAT_PORT"
	printf 'THIS IS NOT HTTP\r\n\r\n' >&7
	run timeout 5 head -n 1 <&7
	exec 7>&-
	assert_output --regexp '^HTTP/1\.[01] 400'
}

@test "a body over --max-body is 413, declared or chunked" {
	report=$(mkreport_file r.bin --spans 100)
	start_satellite --max-body 10K
	run post_report "$report"
	assert_output 413
	run post_report "$report" "$SAT_PORT" -H 'Transfer-Encoding: chunked'
	assert_output 413
	run sat_stat '[.rejected.too_large, .reports] | @tsv'
	assert_output "$(printf '2\t0')"
}

@test "a connection beyond --max-connections evicts the one idle longest" {
	start_satellite --max-connections 2
	exec 7<>"/dev/tcp/127.0.0.1/$SAT_PORT"
	sleep 0.2
	exec 8<>"/dev/tcp/127.0.0.1/$SAT_PORT"
	sleep 0.2
	exec 9<>"/dev/tcp/127.0.0.1/$SAT_PORT"
	# The first is closed: reading it gives end of file.
	run timeout 5 cat <&7
	assert_success
	assert_output ""
	# The newest works (tests/hostile-conns.bats has the rest).
	printf 'GET /spans_received HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&9
	run timeout 5 head -n 1 <&9
	assert_output --regexp '^HTTP/1\.1 200'
	exec 7>&- 8>&- 9>&-
}

@test "idle connections are closed after --idle-timeout" {
	start_satellite --idle-timeout 1
	exec 7<>"/dev/tcp/127.0.0.1/$SAT_PORT"
	run timeout 10 cat <&7
	exec 7>&-
	assert_success
	assert_output ""
}

@test "--bandwidth caps what one satellite receives" {
	report=$(mkreport_file r.bin --spans 2000)   # about 1.9 MB
	start_satellite --bandwidth 1M
	run curl -sS -o /dev/null -w '%{http_code} %{time_total}' --data-binary "@$report" "$(report_url)"
	read -r code secs <<<"$output"
	assert_equal "$code" 200
	# 1.9 MB at 1 MiB/s takes at least 1.5 s, however fast the machine.
	awk -v s="$secs" 'BEGIN { exit !(s >= 1.5) }'
}

@test "--bandwidth holds its rate over a long body, within 15%" {
	report=$(mkreport_file r.bin --spans 21300)   # about 20 MB
	bytes=$(stat -c %s "$report")
	start_satellite --bandwidth 10M
	run curl -sS -o /dev/null -w '%{http_code} %{time_total}' --data-binary "@$report" "$(report_url)"
	read -r code secs <<<"$output"
	assert_equal "$code" 200
	assert_equal "$(sat_stat .spans_received)" 21300
	# 20 MB at 10 MiB/s: 1.9 s, less the bucket's 100 ms of burst.
	awk -v s="$secs" -v b="$bytes" 'BEGIN {
		want = b / (10 * 1048576)
		printf "took %.3f s, the rate says %.3f s\n", s, want
		exit !(s >= want * 0.85 && s <= want * 1.15)
	}'
}

@test "--bandwidth is one cap for all the connections to a satellite" {
	report=$(mkreport_file r.bin --spans 10650)   # about 10 MB
	bytes=$(stat -c %s "$report")
	start_satellite --bandwidth 10M
	t0=$(date +%s.%N)
	local pids=()
	for i in 1 2; do
		curl -sS -o /dev/null -w '%{http_code}\n' --data-binary "@$report" \
			"$(report_url)" >"$TMP/code.$i" &
		pids+=($!)
		started $!
	done
	wait "${pids[@]}"
	t1=$(date +%s.%N)
	assert_equal "$(cat "$TMP/code.1" "$TMP/code.2" | tr '\n' ' ')" "200 200 "
	# Two 10 MB bodies at once through one 10 MiB/s satellite: 1.9 s.
	awk -v t0="$t0" -v t1="$t1" -v b="$bytes" 'BEGIN {
		want = 2 * b / (10 * 1048576)
		printf "took %.3f s, the rate says %.3f s\n", t1 - t0, want
		exit !(t1 - t0 >= want * 0.85 && t1 - t0 <= want * 1.15)
	}'
}

@test "--bandwidth: a report waiting on a low cap does not hold up /down" {
	report=$(mkreport_file r.bin --spans 100)   # about 94 KB
	# At 4 KiB/s a 32 KiB piece owes seconds of waiting.
	start_satellite --bandwidth 4K
	curl -sS -o /dev/null --data-binary "@$report" "$(report_url)" 2>"$TMP/curl.err" &
	pid=$!
	started $pid
	sleep 0.5
	run curl -sS -o /dev/null -w '%{http_code} %{time_total}' -X POST "$SAT_ADMIN/down"
	read -r code secs <<<"$output"
	assert_equal "$code" 200
	awk -v s="$secs" 'BEGIN { exit !(s < 1.5) }'
	run wait "$pid"
	assert_failure
}

# --- a real tracer ---------------------------------------------------------

@test "the npm lightstep-tracer reports every span, none invalid" {
	[[ -d $LTB_ROOT/tests/js/node_modules/lightstep-tracer ]] ||
		fail "tests/js/node_modules missing: run docker/deps.sh"
	start_satellite
	run node "$LTB_ROOT/tests/js/report-spans.js" --host 127.0.0.1 \
		--port "$SAT_PORT" --spans 1000 --tags 10 --logs 5 --timeout 60
	assert_success
	run jq -r .spans_sent <<<"$output"
	assert_output 1000
	run sat_stat '[.spans_received, .invalid_spans, .duplicate_spans, .rejected_reports] | @tsv'
	assert_output "$(printf '1000\t0\t0\t0')"
	(($(sat_stat .reports) >= 1))
}

@test "the npm lightstep-tracer on its thrift transport is counted under lightstep_thrift_json" {
	[[ -d $LTB_ROOT/tests/js/node_modules/lightstep-tracer ]] ||
		fail "tests/js/node_modules missing: run docker/deps.sh"
	start_satellite
	cat >"$TMP/thrift.js" <<-JS
		const lightstep = require('$LTB_ROOT/tests/js/node_modules/lightstep-tracer');
		const t = new lightstep.Tracer({ access_token: 'x', component_name: 'c',
		    collector_host: '127.0.0.1', collector_port: $SAT_PORT,
		    collector_encryption: 'none', transport: 'thrift',
		    disable_clock_skew_correction: true, disable_meta_event_reporting: true });
		for (let i = 0; i < 10; i++) t.startSpan('s').finish();
		t.flush(() => process.exit(0));
		setTimeout(() => process.exit(3), 10000);
	JS
	run timeout 20 node "$TMP/thrift.js"
	assert_success
	run sat_stat '[.spans_received, .protocols.lightstep_thrift_json.received, .invalid_spans, .unknown_path_requests] | @tsv'
	assert_output "$(printf '10\t10\t0\t0')"
}

# ---- the table of protocols, content encodings --------------------------

@test "--help and the ready record list every protocol of the table" {
	start_satellite
	run jq -r '.protocols[].name' <<<"$SAT_READY"
	assert_success
	assert_line lightstep
	assert_line spectatord
	# the HTTP ones with their POST target
	names=$(jq -r '.protocols[] | select(.transport == "http") | .name' <<<"$SAT_READY")
	run ltb-satellite --help
	assert_success
	for name in $names; do
		path=$(jq -r --arg n "$name" '.protocols[] | select(.name == $n) | .path' <<<"$SAT_READY")
		assert_line --regexp "^  $name +POST $path "
	done
}

@test "/stats gives each protocol its own counts, and the totals stay at the top" {
	start_satellite
	report=$(mkreport_file r.bin --spans 7)
	bad=$(mkreport_file bad.bin --spans 2 --invalid zero_span_id)
	post_report "$report"
	post_report "$bad" "${SAT_PORTS[1]}"
	run sat_stat '[.spans_received, .invalid_spans, .protocols.lightstep.unit,
		.protocols.lightstep.received, .protocols.lightstep.invalid,
		.protocols.lightstep.invalid_by_reason.zero_span_id,
		.protocols.lightstep.messages, .invalid.zero_span_id] | @tsv'
	assert_output "$(printf '9\t2\tspan\t9\t2\t2\t2\t2')"
	run sat_stat "[.ports[1].protocols.lightstep.received, .ports[0].protocols.lightstep.received] | @tsv"
	assert_output "$(printf '2\t7')"
}

@test "a gzip or deflate body is inflated and counted like a plain one" {
	start_satellite
	report=$(mkreport_file r.bin --spans 50)
	gzip -c "$report" >"$TMP/r.gz"
	python3 -c 'import sys, zlib; sys.stdout.buffer.write(zlib.compress(open(sys.argv[1], "rb").read()))' \
		"$report" >"$TMP/r.zz"
	run post_report "$TMP/r.gz" "" -H 'Content-Encoding: gzip'
	assert_output 200
	run post_report "$TMP/r.zz" "" -H 'Content-Encoding: deflate'
	assert_output 200
	# Two gzip members back to back are one body (RFC 1952).
	cat "$TMP/r.gz" "$TMP/r.gz" >"$TMP/rr.gz"
	run post_report "$TMP/rr.gz" "" -H 'Content-Encoding: gzip'
	assert_output 200
	run sat_stat '[.spans_received, .reports, .duplicate_spans, .rejected_reports] | @tsv'
	assert_output "$(printf '200\t3\t150\t0')"
}

@test "a truncated or corrupt gzip body is a malformed report" {
	start_satellite
	report=$(mkreport_file r.bin --spans 50)
	gzip -c "$report" >"$TMP/r.gz"
	head -c $(($(stat -c %s "$TMP/r.gz") - 12)) "$TMP/r.gz" >"$TMP/short.gz"
	run post_report "$TMP/short.gz" "" -H 'Content-Encoding: gzip'
	assert_output 400
	run cat "$TMP/answer"
	assert_output --partial "truncated compressed body"
	run post_report "$report" "" -H 'Content-Encoding: gzip'
	assert_output 400
	run cat "$TMP/answer"
	assert_output --partial "not a gzip body"
	run sat_stat '[.reports, .rejected.malformed] | @tsv'
	assert_output "$(printf '0\t2')"
}

@test "the body limit applies to what a gzip body inflates to" {
	start_satellite --max-body 32K
	# 1 MiB of zeros, about 1 KiB compressed: a small bomb. The limit
	# trips before the protocol sees a byte past it.
	head -c 1048576 /dev/zero | gzip -c >"$TMP/bomb.gz"
	[ "$(stat -c %s "$TMP/bomb.gz")" -lt 32768 ]
	run post_report "$TMP/bomb.gz" "" -H 'Content-Encoding: gzip'
	assert_output 413
	run cat "$TMP/answer"
	assert_output --partial "once inflated"
	run sat_stat '.rejected.too_large'
	assert_output 1
}

@test "an encoding it cannot decode is answered 415 and counted" {
	start_satellite
	report=$(mkreport_file r.bin --spans 5)
	run post_report "$report" "" -H 'Content-Encoding: br'
	assert_output 415
	run cat "$TMP/answer"
	assert_output --partial "use gzip, deflate or none"
	run sat_stat '[.spans_received, .rejected.unsupported_encoding, .protocols.lightstep.rejected.unsupported_encoding] | @tsv'
	assert_output "$(printf '0\t1\t1')"
}

# ---- OTLP/HTTP traces ------------------------------------------------------
#
# POST /v1/traces, ExportTraceServiceRequest as application/x-protobuf
# (bodies from mkotlp) or application/json (from mkotlp --json, or written
# here by hand), answered in the request's own content type; protobuf
# answers are read back by otlpdecode (protobuf-c).

otlp_url() {
	echo "http://127.0.0.1:${1:-$SAT_PORT}/v1/traces"
}

# post_otlp FILE TYPE [PORT] [CURL ARGS...]: POST an OTLP body as
# Content-Type TYPE; prints "STATUS CONTENT-TYPE". The answer's body goes
# to $TMP/answer.
post_otlp() {
	local file=$1 type=$2 port=${3:-$SAT_PORT}
	shift 3 || shift $#
	curl -sS -o "$TMP/answer" -w '%{http_code} %{content_type}' \
		-H "Content-Type: $type" --data-binary "@$file" "$@" \
		"$(otlp_url "$port")"
}

mkotlp_file() {
	local name=$1
	shift
	mkotlp "$@" >"$TMP/$name"
	echo "$TMP/$name"
}

PB=application/x-protobuf
JSON=application/json

# Two spans as an SDK's JSON exporter writes them (hex ids in either case,
# times as strings, a kind, unknown keys), a root and its child.
otlp_json_two_spans() {
	cat >"$TMP/two.json" <<-'JSON'
	{"resourceSpans":[{"resource":{"attributes":[
	  {"key":"service.name","value":{"stringValue":"checkout"}}]},
	 "scopeSpans":[{"scope":{"name":"checkout.http","version":"2.1.0"},
	  "spans":[
	   {"traceId":"4BF92F3577B34DA6A3CE929D0E0E4736","spanId":"53995C3F42CD8AD8",
	    "name":"POST /cart","kind":2,
	    "startTimeUnixNano":"1700000000000000000",
	    "endTimeUnixNano":"1700000000250000000",
	    "attributes":[{"key":"http.request.method","value":{"stringValue":"POST"}}],
	    "someFutureField":{"x":1}},
	   {"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7",
	    "parentSpanId":"53995c3f42cd8ad8","name":"SELECT carts","kind":3,
	    "startTimeUnixNano":"1700000000010000000",
	    "endTimeUnixNano":1700000000200000000,
	    "events":[{"timeUnixNano":"1700000000100000000","name":"rows fetched"}]}
	  ]}]}]}
	JSON
	echo "$TMP/two.json"
}

@test "OTLP: counts a protobuf export and answers an empty ExportTraceServiceResponse" {
	start_satellite
	body=$(mkotlp_file t.bin --spans 25)
	run post_otlp "$body" "$PB"
	assert_output "200 $PB"
	run otlpdecode response "$TMP/answer"
	assert_success
	assert_output "partial_success unset"
	run sat_stat '[.spans_received, .invalid_spans, .protocols.otlp.received,
		.protocols.otlp.messages, .protocols.otlp.unit,
		.protocols.lightstep.received] | @tsv'
	assert_output "$(printf '25\t0\t25\t1\tspan\t0')"
}

@test "OTLP: reads hand-written JSON and answers {} in JSON" {
	start_satellite
	run post_otlp "$(otlp_json_two_spans)" "$JSON"
	assert_output "200 $JSON"
	run cat "$TMP/answer"
	assert_output '{}'
	# a charset parameter is still JSON
	mkotlp --json --spans 3 --seed 5 >"$TMP/g.json"
	run post_otlp "$TMP/g.json" "application/json; charset=utf-8"
	assert_output "200 $JSON"
	run sat_stat '[.spans_received, .invalid_spans, .protocols.otlp.messages] | @tsv'
	assert_output "$(printf '5\t0\t2')"
}

@test "OTLP: flags invalid spans by reason and rejects them in partial_success" {
	start_satellite
	seed=1
	for why in bad_trace_id bad_span_id bad_parent_span_id no_name end_before_start; do
		seed=$((seed + 1))
		body=$(mkotlp_file "$why.bin" --spans 3 --invalid "$why" --seed "$seed")
		run post_otlp "$body" "$PB"
		assert_output "200 $PB"
		run otlpdecode response "$TMP/answer"
		assert_line "rejected_spans 3"
		assert_line --partial "$why 3"
	done
	run sat_stat '[.spans_received, .invalid_spans,
		(.protocols.otlp.invalid_by_reason | .bad_trace_id, .bad_span_id,
		 .bad_parent_span_id, .no_name, .end_before_start)] | @tsv'
	assert_output "$(printf '15\t15\t3\t3\t3\t3\t3')"
	# in JSON: partialSuccess, rejectedSpans as an int64 string
	mkotlp --json --spans 2 --invalid no_name --seed 99 >"$TMP/bad.json"
	run post_otlp "$TMP/bad.json" "$JSON"
	assert_output "200 $JSON"
	run jq -r '.partialSuccess | [.rejectedSpans, .errorMessage] | @tsv' "$TMP/answer"
	assert_output --regexp $'^2\t.*no_name 2'
}

@test "OTLP: a body it cannot read is 400 with a google.rpc.Status in the request's type" {
	start_satellite
	garbage=$(mkotlp_file g.bin --malformed garbage)
	run post_otlp "$garbage" "$PB"
	assert_output "400 $PB"
	run otlpdecode status "$TMP/answer"
	assert_line "code 3"
	assert_line --partial "message cannot read the ExportTraceServiceRequest"
	truncated=$(mkotlp_file t.bin --spans 4 --malformed truncated)
	run post_otlp "$truncated" "$PB"
	assert_output "400 $PB"
	run otlpdecode status "$TMP/answer"
	assert_line --partial "truncated"
	printf '{"resourceSpans": [' >"$TMP/cut.json"
	run post_otlp "$TMP/cut.json" "$JSON"
	assert_output "400 $JSON"
	run jq -r '[.code, .message] | @tsv' "$TMP/answer"
	assert_output $'3\tcannot read the ExportTraceServiceRequest: body is not JSON'
	run sat_stat '[.rejected.malformed, .protocols.otlp.rejected.malformed, .protocols.otlp.messages] | @tsv'
	assert_output "$(printf '3\t3\t0')"
}

@test "OTLP: a body over --max-body is 413, with a Status when streamed" {
	start_satellite --max-body 16K
	body=$(mkotlp_file big.bin --spans 100)
	mkotlp --json --spans 100 >"$TMP/big.json"
	# declared too large: the group answers before the body, in the
	# protocol's own form all the same (OTLP: a Status for every 4xx)
	run post_otlp "$body" "$PB"
	assert_output "413 $PB"
	run otlpdecode status "$TMP/answer"
	assert_line "code 8"
	run post_otlp "$TMP/big.json" "$JSON"
	assert_output "413 $JSON"
	run jq -r .code "$TMP/answer"
	assert_output 8
	# chunked: the limit trips in the body, and OTLP answers its Status
	run post_otlp "$body" "$PB" "" -H 'Transfer-Encoding: chunked'
	assert_output "413 $PB"
	run otlpdecode status "$TMP/answer"
	assert_line "code 8"
	run post_otlp "$TMP/big.json" "$JSON" "" -H 'Transfer-Encoding: chunked'
	assert_output "413 $JSON"
	run jq -r .code "$TMP/answer"
	assert_output 8
	run sat_stat '[.rejected.too_large, .protocols.otlp.messages] | @tsv'
	assert_output "$(printf '4\t0')"
}

@test "OTLP: gzip bodies are counted the same as plain ones" {
	start_satellite
	body=$(mkotlp_file t.bin --spans 40 --seed 3)
	mkotlp --json --spans 40 --seed 4 >"$TMP/t.json"
	gzip -c "$body" >"$TMP/t.bin.gz"
	gzip -c "$TMP/t.json" >"$TMP/t.json.gz"
	run post_otlp "$TMP/t.bin.gz" "$PB" "" -H 'Content-Encoding: gzip'
	assert_output "200 $PB"
	run otlpdecode response "$TMP/answer"
	assert_output "partial_success unset"
	run post_otlp "$TMP/t.json.gz" "$JSON" "" -H 'Content-Encoding: gzip'
	assert_output "200 $JSON"
	run sat_stat '[.spans_received, .invalid_spans, .duplicate_spans, .protocols.otlp.messages] | @tsv'
	assert_output "$(printf '80\t0\t0\t2')"
	# the same bodies plain: every span again, so all duplicates
	post_otlp "$body" "$PB"
	post_otlp "$TMP/t.json" "$JSON"
	run sat_stat '[.spans_received, .duplicate_spans] | @tsv'
	assert_output "$(printf '160\t80')"
}

@test "OTLP: a span sent as protobuf and again as JSON is a duplicate" {
	start_satellite
	body=$(mkotlp_file t.bin --spans 30 --seed 11)
	otlpdecode request "$body" >"$TMP/t.json"
	run post_otlp "$body" "$PB"
	assert_output "200 $PB"
	run post_otlp "$TMP/t.json" "$JSON" "${SAT_PORTS[1]}"
	assert_output "200 $JSON"
	run sat_stat '[.spans_received, .duplicate_spans, .invalid_spans] | @tsv'
	assert_output "$(printf '60\t30\t0')"
}

@test "OTLP: --validate full counts the same as the walk" {
	body=$(mkotlp_file t.bin --spans 300 --resources 2 --scopes 3)
	bad=$(mkotlp_file bad.bin --spans 5 --invalid bad_parent_span_id --seed 7)
	for how in walk full; do
		start_satellite --validate "$how"
		post_otlp "$body" "$PB"
		post_otlp "$bad" "$PB"
		run sat_stat '[.spans_received, .invalid_spans, .protocols.otlp.invalid_by_reason.bad_parent_span_id] | @tsv'
		assert_output "$(printf '305\t5\t5')"
		kill "$SAT_PID"
		wait_gone "$SAT_PID" 5
	done
}

@test "OTLP: a content type it does not read is 415, counted" {
	start_satellite
	body=$(mkotlp_file t.bin --spans 5)
	run post_otlp "$body" application/octet-stream
	# in OTLP's default form, protobuf, since the one sent is not read
	assert_output "415 $PB"
	run otlpdecode status "$TMP/answer"
	assert_line --partial "content type"
	run post_otlp "$body" "$PB" "" -H 'Content-Encoding: br'
	assert_output "415 $PB"
	run sat_stat '[.spans_received, .protocols.otlp.rejected.unsupported_media_type, .protocols.otlp.rejected.unsupported_encoding] | @tsv'
	assert_output "$(printf '0\t1\t1')"
}

@test "OTLP: slow_fail answers 400 with a Status and counts nothing" {
	start_satellite --mode slow_fail
	body=$(mkotlp_file t.bin --spans 10)
	run post_otlp "$body" "$PB"
	assert_output "400 $PB"
	run otlpdecode status "$TMP/answer"
	assert_line --partial "slow_fail"
	run sat_stat '[.spans_received, .rejected.slow_fail] | @tsv'
	assert_output "$(printf '0\t1')"
}

@test "OTLP: counts a streamed chunked export as its spans arrive, in bounded memory" {
	# Concatenated requests are one request (resource_spans repeats): this
	# streams 1,000 spans per piece into one long chunked request, and the
	# walk steps into each ResourceSpans rather than holding it.
	body=$(mkotlp_file t.bin --spans 1000)
	start_satellite --bandwidth 0 --max-body 0
	mkfifo "$TMP/pipe"
	curl -sS -o "$TMP/answer" -w '%{http_code}' -X POST -T - \
		-H "Content-Type: $PB" "$(otlp_url)" <"$TMP/pipe" >"$TMP/status" &
	started $!
	curl_pid=$!
	exec 7>"$TMP/pipe"
	for i in $(seq 10); do cat "$body" >&7; done
	spans_at_least() { (($(curl -sS "$SAT_ADMIN/spans_received") >= $1)); }
	wait_for 20 spans_at_least 9000
	kill -0 "$curl_pid"
	for i in $(seq 50); do cat "$body" >&7; done
	exec 7>&-
	wait "$curl_pid"
	run cat "$TMP/status"
	assert_output 200
	run sat_stat '[.spans_received, .protocols.otlp.messages, .duplicate_spans] | @tsv'
	assert_output "$(printf '60000\t1\t59000')"
	# About 64 MB went through in one ResourceSpans after another.
	(($(rss_peak "$SAT_PID") < 40000))
}

# --- TLS (--tls) -------------------------------------------------------------

# tls_url [PORT] [HOST]: the report endpoint of a satellite port over https.
tls_url() {
	echo "https://${2:-127.0.0.1}:${1:-$SAT_PORT}/api/v2/reports"
}

# post_tls FILE [PORT] [CURL ARGS...]: POST a report over https, checking
# the certificate against the one the satellite wrote ($TMP/cert.pem)
# unless CURL ARGS say otherwise; prints the HTTP status.
post_tls() {
	local file=$1 port=${2:-$SAT_PORT}
	shift 2 || shift $#
	curl -sS -o "$TMP/answer" -w '%{http_code}' --cacert "$TMP/cert.pem" \
		-H 'Content-Type: application/octet-stream' \
		--data-binary "@$file" "$@" "$(tls_url "$port")"
}

@test "--tls: curl verifying the --cert-out certificate reports over https, every span counted" {
	start_satellite --tls --cert-out "$TMP/cert.pem"
	run jq -r '[.tls, .cert] | @tsv' <<<"$SAT_READY"
	assert_output "$(printf 'true\t%s' "$TMP/cert.pem")"
	report=$(mkreport_file r.bin --spans 1000)
	# By address and by name: both are in the certificate.
	run post_tls "$report"
	assert_output 200
	run curl -sS -o /dev/null -w '%{http_code}' --cacert "$TMP/cert.pem" \
		--data-binary "@$report" "$(tls_url "${SAT_PORTS[1]}" localhost)"
	assert_output 200
	# Without the certificate curl refuses it; with -k it does not check.
	run curl -sS -o /dev/null "$(tls_url)"
	assert_failure 60
	run post_tls "$report" "" -k
	assert_output 200
	run sat_stat '[.spans_received, .reports, .invalid_spans, .duplicate_spans, .connections, .tls_handshake_failures] | @tsv'
	assert_output "$(printf '3000\t3\t0\t2000\t4\t1')"
}

@test "--tls: every HTTP protocol is served over TLS: OTLP protobuf, gzip and JSON too" {
	start_satellite --tls --cert-out "$TMP/cert.pem"
	body=$(mkotlp_file t.bin --spans 40)
	gzip -c "$body" >"$TMP/t.gz"
	otlps() {
		curl -sS -o "$TMP/answer" -w '%{http_code} %{content_type}' --cacert "$TMP/cert.pem" \
			"$@" "https://127.0.0.1:$SAT_PORT/v1/traces"
	}
	run otlps -H "Content-Type: $PB" --data-binary "@$body"
	assert_output "200 $PB"
	run otlps -H "Content-Type: $PB" -H 'Content-Encoding: gzip' --data-binary "@$TMP/t.gz"
	assert_output "200 $PB"
	run otlps -H "Content-Type: $JSON" --data-binary "@$(otlp_json_two_spans)"
	assert_output "200 $JSON"
	report=$(mkreport_file r.bin --spans 7)
	run post_tls "$report"
	assert_output 200
	run sat_stat '[.spans_received, .protocols.otlp.received, .protocols.otlp.messages,
		.protocols.lightstep.received, .invalid_spans] | @tsv'
	assert_output "$(printf '89\t82\t3\t7\t0')"
}

@test "--tls: many reports on one keep-alive connection, four senders at once, all counted" {
	start_satellite --tls --cert-out "$TMP/cert.pem" --ports 0,0,0,0 --bandwidth 0
	pids=()
	for i in 0 1 2 3; do
		mkreport --spans 1000 --seed $((i + 1)) >"$TMP/r$i.bin"
		urls=()
		for j in $(seq 25); do urls+=(-o /dev/null "$(tls_url "${SAT_PORTS[i]}")"); done
		curl -sS --cacert "$TMP/cert.pem" -w '%{http_code} %{num_connects}\n' \
			--data-binary "@$TMP/r$i.bin" "${urls[@]}" >"$TMP/status$i" &
		pids+=($!)
		started $!
	done
	for p in "${pids[@]}"; do wait "$p"; done
	run sort "$TMP"/status*
	assert_output "$(printf '200 0\n%.0s' $(seq 96); printf '200 1\n%.0s' 1 2 3 4)"
	run sat_stat '[.spans_received, .reports, .rejected_reports, .connections, .tls_handshake_failures] | @tsv'
	assert_output "$(printf '100000\t100\t0\t4\t0')"
}

@test "--tls: gzip bodies are inflated and counted over TLS too" {
	start_satellite --tls --cert-out "$TMP/cert.pem"
	report=$(mkreport_file r.bin --spans 1000)
	gzip -c "$report" >"$TMP/r.gz"
	run post_tls "$TMP/r.gz" "" -H 'Content-Encoding: gzip'
	assert_output 200
	run sat_stat '[.spans_received, .reports, .bytes, .rejected_reports] | @tsv'
	assert_output "$(printf '1000\t1\t%s\t0' "$(wc -c <"$TMP/r.gz")")"
}

@test "--tls: down closes the port and its TLS connections; up serves TLS on the same port" {
	start_satellite --tls --cert-out "$TMP/cert.pem"
	report=$(mkreport_file r.bin --spans 10)
	# A TLS connection held open, idle, across the down.
	coproc TLSCONN { exec openssl s_client -quiet -no_ign_eof -CAfile "$TMP/cert.pem" \
		-connect "127.0.0.1:$SAT_PORT" 2>"$TMP/s_client.err"; }
	started "$TLSCONN_PID"
	# Our own copies: bash closes the coprocess's when it ends.
	exec 7<&"${TLSCONN[0]}" 8>&"${TLSCONN[1]}"
	printf 'GET /spans_received HTTP/1.1\r\nHost: x\r\n\r\n' >&8
	IFS= read -r -t 5 line <&7
	[[ $line == "HTTP/1.1 200"* ]]
	run curl -sS -X POST "$SAT_ADMIN/down"
	run jq -r .up <<<"$output"
	assert_output false
	# The open connection is closed ...
	run timeout 5 cat <&7
	assert_success
	exec 7<&- 8>&-
	# ... and new ones are refused.
	run post_tls "$report"
	assert_output --partial "Failed to connect"
	run curl -sS -X POST "$SAT_ADMIN/up"
	run post_tls "$report"
	assert_output 200
	run sat_stat '[.spans_received, .tls_handshake_failures, .up] | @tsv'
	assert_output "$(printf '10\t0\ttrue')"
}

@test "--tls: plain HTTP to a TLS port fails at the handshake, is counted, and the port still serves" {
	start_satellite --tls --cert-out "$TMP/cert.pem"
	report=$(mkreport_file r.bin --spans 5)
	run timeout 10 curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/octet-stream' \
		--data-binary "@$report" "$(report_url)"
	assert_failure
	assert_output --regexp "reset|Empty reply|Recv failure"
	run timeout 10 curl -sS -o /dev/null "http://127.0.0.1:${SAT_PORTS[1]}/spans_received"
	assert_failure
	run post_tls "$report"
	assert_output 200
	run sat_stat '[.spans_received, .requests, .connections, .tls_handshake_failures, (.ports | map(.tls_handshake_failures) | @csv)] | @tsv'
	assert_output "$(printf '5\t1\t3\t2\t1,1')"
	kill -0 "$SAT_PID"
}

@test "--tls: a connection that never finishes its handshake is closed after --idle-timeout" {
	start_satellite --tls --idle-timeout 1
	exec 7<>"/dev/tcp/127.0.0.1/$SAT_PORT"
	run timeout 10 cat <&7
	exec 7>&-
	assert_success
	run sat_stat '[.connections, .tls_handshake_failures] | @tsv'
	assert_output "$(printf '1\t1')"
}

@test "--tls: a connection beyond --max-connections evicts the one idle longest; idle ones close after --idle-timeout" {
	start_satellite --tls --cert-out "$TMP/cert.pem" --max-connections 2 --idle-timeout 3
	s_client() {
		openssl s_client -quiet -no_ign_eof -CAfile "$TMP/cert.pem" \
			-connect "127.0.0.1:$SAT_PORT" 2>/dev/null
	}
	open_at_least() { (($(sat_stat .connections_open) >= $1)); }
	coproc ONE { s_client; }
	started "$ONE_PID"
	exec 7<&"${ONE[0]}" 8>&"${ONE[1]}"
	wait_for 5 open_at_least 1
	coproc TWO { s_client; }
	started "$TWO_PID"
	exec 9<&"${TWO[0]}"
	wait_for 5 open_at_least 2
	# The third, once through its handshake, takes the first's place.
	printf 'GET /spans_received HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
		timeout 5 openssl s_client -quiet -CAfile "$TMP/cert.pem" \
		-connect "127.0.0.1:$SAT_PORT" >"$TMP/third" 2>/dev/null || true
	run head -n 1 "$TMP/third"
	assert_output --regexp '^HTTP/1\.1 200'
	run timeout 5 cat <&7
	assert_success
	# The second, idle, is closed by the deadline.
	run timeout 10 cat <&9
	assert_success
	exec 7<&- 8>&- 9<&-
	run sat_stat '[.connections, .tls_handshake_failures, .evicted_connections, .idle_timeouts] | @tsv'
	assert_output "$(printf '3\t0\t1\t1')"
}

@test "--tls --cert --key serves a certificate made by openssl" {
	command -v openssl >/dev/null || skip "openssl is not installed"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
		-addext subjectAltName=IP:127.0.0.1 \
		-keyout "$TMP/key.pem" -out "$TMP/ca.pem" 2>/dev/null
	start_satellite --tls --cert "$TMP/ca.pem" --key "$TMP/key.pem" --cert-out "$TMP/cert.pem"
	# What it serves and what it wrote are the certificate it was given.
	served=$(openssl s_client -connect "127.0.0.1:$SAT_PORT" </dev/null 2>/dev/null |
		openssl x509 -noout -fingerprint -sha256)
	run openssl x509 -in "$TMP/ca.pem" -noout -fingerprint -sha256
	assert_output "$served"
	run openssl x509 -in "$TMP/cert.pem" -noout -fingerprint -sha256
	assert_output "$served"
	report=$(mkreport_file r.bin --spans 20)
	run post_tls "$report" "" --cacert "$TMP/ca.pem"
	assert_output 200
	run sat_stat .spans_received
	assert_output 20
}

@test "--tls: a bad key or certificate file exits 3 naming it and saying why" {
	command -v openssl >/dev/null || skip "openssl is not installed"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj /CN=localhost -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
	openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out "$TMP/other.pem" 2>/dev/null
	echo "not a key" >"$TMP/bad.pem"
	run ltb-satellite --ports 0 --admin-port 0 --cert "$TMP/cert.pem" --key "$TMP/bad.pem"
	assert_failure 3
	assert_output "ltb-satellite: cannot read key $TMP/bad.pem: PK - Invalid key tag or value"
	run ltb-satellite --ports 0 --admin-port 0 --cert "$TMP/bad.pem" --key "$TMP/key.pem"
	assert_failure 3
	assert_output --regexp "^ltb-satellite: cannot read certificate $TMP/bad.pem: X509 - "
	run ltb-satellite --ports 0 --admin-port 0 --cert "$TMP/cert.pem" --key "$TMP/nope.pem"
	assert_failure 3
	assert_output "ltb-satellite: cannot read key $TMP/nope.pem: No such file or directory"
	run ltb-satellite --ports 0 --admin-port 0 --cert "$TMP/cert.pem" --key "$TMP/other.pem"
	assert_failure 3
	assert_output "ltb-satellite: key $TMP/other.pem is not the key of certificate $TMP/cert.pem"
	run ltb-satellite --ports 0 --admin-port 0 --tls --cert-out "$TMP/no/such/dir/c.pem"
	assert_failure 3
	assert_output --partial "cannot write certificate $TMP/no/such/dir/c.pem: No such file or directory"
}

@test "--cert without --key is a usage error" {
	run ltb-satellite --cert "$TMP/cert.pem"
	assert_failure 2
	assert_line "ltb-satellite: --cert without --key: give both, or neither for a self-signed certificate"
}

@test "without --tls the ready record says so and /stats counts no handshakes" {
	start_satellite
	run jq -r '[.tls, has("cert")] | @tsv' <<<"$SAT_READY"
	assert_output "$(printf 'false\tfalse')"
	run sat_stat 'has("tls_handshake_failures")'
	assert_output false
}

@test "--tls --bind ::1: the certificate names ::1" {
	[[ -e /proc/net/if_inet6 ]] || skip "no IPv6 on this machine"
	start_satellite --tls --bind ::1 --cert-out "$TMP/cert.pem"
	run curl -sS -g --cacert "$TMP/cert.pem" "https://[::1]:$SAT_PORT/spans_received"
	assert_output 0
}

@test "--tls: SIGTERM with TLS connections open prints the stats and exits 0 at once" {
	start_satellite --tls --cert-out "$TMP/cert.pem"
	report=$(mkreport_file r.bin --spans 3)
	post_tls "$report" >/dev/null
	exec 7<>"/dev/tcp/127.0.0.1/$SAT_PORT"
	coproc TLSCONN { exec openssl s_client -quiet -no_ign_eof -CAfile "$TMP/cert.pem" \
		-connect "127.0.0.1:$SAT_PORT" 2>/dev/null; }
	started "$TLSCONN_PID"
	sleep 0.3
	kill -TERM "$SAT_PID"
	wait_gone "$SAT_PID" 3
	run wait "$SAT_PID"
	assert_success
	exec 7>&-
	run jq -r 'select(.type == "stats") | [.spans_received, .tls_handshake_failures] | @tsv' "$SAT_OUT"
	assert_output "$(printf '3\t0')"
}

# --- scripted answers --------------------------------------------------------

# post_script JSON: POST /script; prints the HTTP status, the answer in
# $TMP/script.answer.
post_script() {
	curl -sS -o "$TMP/script.answer" -w '%{http_code}' -X POST \
		--data-binary "$1" "$SAT_ADMIN/script"
}

# post_headers FILE: POST a report; prints the status line and headers,
# the body in $TMP/answer.
post_headers() {
	curl -sS -D - -o "$TMP/answer" -H 'Content-Type: application/octet-stream' \
		--data-binary "@$1" "$(report_url)" | tr -d '\r'
}

@test "a scripted 429 carries Retry-After; its spans are received and counted refused" {
	report=$(mkreport_file r.bin --spans 10)
	start_satellite
	run post_script '[{"at_s": 0, "for_s": 60, "status": 429, "retry_after": "2"}]'
	assert_output 200
	run jq -c '[.active, .steps[0].status, .steps[0].retry_after]' "$TMP/script.answer"
	assert_output '[0,429,"2"]'
	run post_headers "$report"
	assert_line --regexp '^HTTP/1.1 429 '
	assert_line 'Retry-After: 2'
	run cat "$TMP/answer"
	assert_output --partial "step 0: 429 Retry-After 2"
	run sat_stat '[.spans_received, .refused_spans, .refused_new_spans, .reports, .rejected_reports, .rejected.scripted, .protocols.lightstep.refused] | @tsv'
	assert_output "$(printf '10\t10\t10\t0\t1\t1\t10')"
	run sat_stat '.script | [.active, .steps[0].answered, .steps[0].units] | @tsv'
	assert_output "$(printf '0\t1\t10')"
}

@test "503 with and without Retry-After, 502, 504 and 400 answer their status" {
	report=$(mkreport_file r.bin --spans 3)
	start_satellite
	for s in 503 502 504 400 500; do
		run post_script "[{\"at_s\": 0, \"for_s\": 60, \"status\": $s}]"
		assert_output 200
		run post_headers "$report"
		assert_line --regexp "^HTTP/1.1 $s "
		refute_line --partial 'Retry-After'
	done
	run post_script '[{"at_s": 0, "for_s": 60, "status": 503, "retry_after": "Wed, 21 Oct 2026 07:28:00 GMT"}]'
	run post_headers "$report"
	assert_line --regexp '^HTTP/1.1 503 '
	assert_line 'Retry-After: Wed, 21 Oct 2026 07:28:00 GMT'
	run sat_stat '[.rejected.scripted, .refused_spans, .spans_received] | @tsv'
	assert_output "$(printf '6\t18\t18')"
}

@test "drop hangs up without an answer: curl sees an empty reply" {
	report=$(mkreport_file r.bin --spans 4)
	start_satellite
	post_script '[{"at_s": 0, "for_s": 60, "drop": true}]'
	run curl -sS -o /dev/null --data-binary "@$report" "$(report_url)"
	assert_failure 52
	assert_output --partial "Empty reply from server"
	run sat_stat '[.spans_received, .refused_spans, .reports, .rejected.scripted, .script.steps[0].answered] | @tsv'
	assert_output "$(printf '4\t4\t0\t1\t1')"
}

@test "delay_ms answers late, and the report is taken" {
	report=$(mkreport_file r.bin --spans 5)
	start_satellite
	post_script '[{"at_s": 0, "for_s": 60, "delay_ms": 400}]'
	run curl -sS -o /dev/null -w '%{http_code} %{time_total}' --data-binary "@$report" "$(report_url)"
	read -r code secs <<<"$output"
	assert_equal "$code" 200
	awk -v s="$secs" 'BEGIN { exit !(s >= 0.4 && s < 5) }'
	run sat_stat '[.reports, .spans_received, .refused_spans, .rejected.scripted, .script.steps[0].answered] | @tsv'
	assert_output "$(printf '1\t5\t0\t0\t1')"
}

@test "a 503 after a delay is late too" {
	report=$(mkreport_file r.bin --spans 5)
	start_satellite
	post_script '[{"at_s": 0, "for_s": 60, "status": 503, "delay_ms": 300}]'
	run curl -sS -o /dev/null -w '%{http_code} %{time_total}' --data-binary "@$report" "$(report_url)"
	read -r code secs <<<"$output"
	assert_equal "$code" 503
	awk -v s="$secs" 'BEGIN { exit !(s >= 0.3 && s < 5) }'
}

@test "partial_success is a plain 200 for LightStep, which cannot say it" {
	report=$(mkreport_file r.bin --spans 5)
	start_satellite
	post_script '[{"at_s": 0, "for_s": 60, "partial_success": 3}]'
	run post_report "$report"
	assert_output 200
	run sat_stat '[.reports, .spans_received, .refused_spans, .script.steps[0].answered, .script.steps[0].units] | @tsv'
	assert_output "$(printf '1\t5\t0\t1\t5')"
}

@test "in OTLP a scripted 429 is a google.rpc.Status with Retry-After, and partial_success says the rejected spans" {
	ltb-satellite --help | grep -q 'POST /v1/traces' || skip "this satellite serves no OTLP yet"
	start_satellite
	mkotlp --spans 10 >"$TMP/o.pb"
	mkotlp --spans 10 --json --seed 2 >"$TMP/o.json"
	url=http://127.0.0.1:$SAT_PORT/v1/traces
	post_script '[{"at_s": 0, "for_s": 60, "partial_success": 3}]'
	run curl -sS -o "$TMP/a.pb" -w '%{http_code}' -H 'Content-Type: application/x-protobuf' \
		--data-binary "@$TMP/o.pb" "$url"
	assert_output 200
	run otlpdecode response "$TMP/a.pb"
	assert_line 'rejected_spans 3'
	run curl -sS -H 'Content-Type: application/json' --data-binary "@$TMP/o.json" "$url"
	run jq -c .partialSuccess.rejectedSpans <<<"$output"
	assert_output '"3"'
	post_script '[{"at_s": 0, "for_s": 60, "status": 429, "retry_after": "2"}]'
	headers_of() { curl -sS -D - -o "$TMP/a.pb" "$@" | tr -d '\r'; }
	run headers_of -H 'Content-Type: application/x-protobuf' --data-binary "@$TMP/o.pb" "$url"
	assert_line --regexp '^HTTP/1.1 429 '
	assert_line 'Retry-After: 2'
	assert_line 'Content-Type: application/x-protobuf'
	run otlpdecode status "$TMP/a.pb"
	assert_line 'code 8'
	run curl -sS -w ' %{http_code}' -H 'Content-Type: application/json' --data-binary "@$TMP/o.json" "$url"
	assert_output --regexp '^\{"code":8,"message":".*"\} 429$'
	# Spans a partial success claims rejected were taken all the same;
	# the refused ones were received and counted refused.
	run sat_stat '.protocols.otlp | [.received, .messages, .refused, .duplicates] | @tsv'
	assert_output "$(printf '40\t2\t20\t20')"
}

@test "over --tls a scripted 429 carries its Retry-After and a drop hangs up" {
	report=$(mkreport_file r.bin --spans 4)
	start_satellite --tls --cert-out "$TMP/cert.pem"
	url=https://127.0.0.1:$SAT_PORT/api/v2/reports
	post_script '[{"at_s": 0, "for_s": 60, "status": 429, "retry_after": "3"}]'
	headers_of() { curl -sS -D - -o /dev/null --cacert "$TMP/cert.pem" "$@" | tr -d '\r'; }
	run headers_of --data-binary "@$report" "$url"
	assert_line --regexp '^HTTP/1.1 429 '
	assert_line 'Retry-After: 3'
	post_script '[{"at_s": 0, "for_s": 60, "drop": true}]'
	run curl -sS -o /dev/null --cacert "$TMP/cert.pem" --data-binary "@$report" "$url"
	assert_failure 52
	run sat_stat '[.spans_received, .refused_spans, .rejected.scripted] | @tsv'
	assert_output "$(printf '8\t8\t2')"
}

@test "a long scripted delay does not hold up /down: the waiting report is hung up on" {
	report=$(mkreport_file r.bin --spans 5)
	start_satellite
	post_script '[{"at_s": 0, "for_s": 600, "delay_ms": 60000}]'
	curl -sS -o /dev/null --data-binary "@$report" "$(report_url)" 2>"$TMP/curl.err" &
	pid=$!
	started $pid
	# Asked again at every try: the report may not have arrived yet.
	received_is() { [[ $(sat_stat .spans_received) == "$1" ]]; }
	wait_for 10 received_is 5
	start=$SECONDS
	run curl -sS -o /dev/null -w '%{http_code}' -X POST "$SAT_ADMIN/down"
	assert_output 200
	((SECONDS - start < 5))
	run wait "$pid"
	assert_failure 52
}

@test "steps count from the post, and outside them the mode answers" {
	report=$(mkreport_file r.bin --spans 2)
	start_satellite
	post_script '[{"at_s": 1, "for_s": 2, "status": 503}]'
	run post_report "$report"
	assert_output 200
	active_is() { [[ $(curl -sS "$SAT_ADMIN/script" | jq -c .active) == "$1" ]]; }
	wait_for 10 active_is 0
	run post_report "$report"
	assert_output 503
	wait_for 10 active_is null
	run curl -sS "$SAT_ADMIN/script"
	jq -e '.elapsed_s >= 3' <<<"$output"
	run post_report "$report"
	assert_output 200
	run sat_stat '[.reports, .rejected.scripted, .script.steps[0].answered] | @tsv'
	assert_output "$(printf '2\t1\t1')"
}

@test "a retry that gets through after a refusal is a duplicate, counted retried once" {
	report=$(mkreport_file r.bin --spans 10)
	start_satellite
	post_script '[{"at_s": 0, "for_s": 60, "status": 429, "retry_after": "1"}]'
	run post_report "$report"
	assert_output 429
	run post_report "$report"
	assert_output 429
	post_script '[]'
	run post_report "$report"
	assert_output 200
	run post_report "$report"
	assert_output 200
	# 40 arrived: the first 10 new, 30 again; of those 10 were refused
	# again, and 10 got through for the first time.
	run sat_stat '[.spans_received, .duplicate_spans, .refused_spans, .refused_new_spans, .retried_spans] | @tsv'
	assert_output "$(printf '40\t30\t20\t10\t10')"
}

@test "a bad script is 400 naming the step and the field, and the one playing stays" {
	start_satellite
	run post_script '[{"at_s": 0, "for_s": 60, "status": 503}]'
	assert_output 200
	bad=(
		'[{"at_s": 0, "for_s": 1, "stauts": 429}]|steps[0] has an unknown key "stauts"'
		'[{"at_s": 0, "for_s": 1, "status": 503}, {"at_s": "5", "for_s": 1, "drop": true}]|steps[1].at_s is "5": a number of seconds'
		'[{"at_s": -2, "for_s": 1, "status": 503}]|steps[0].at_s is -2: a time from 0 s on'
		'[{"at_s": 0, "for_s": 10, "status": 503}, {"at_s": 5, "for_s": 1, "drop": true}]|steps[1].at_s is 5: it starts before steps[0] ends (at 10 s)'
		'[{"at_s": 0, "for_s": 1, "status": 418}]|steps[0].status is 418: use 400, 429, 500, 502, 503 or 504'
		'[{"at_s": 0, "for_s": 1, "drop": "yes"}]|steps[0].drop is "yes"'
		'{"at_s": 0}|a script is a JSON list of steps'
		'[{"at_s": 0,|not JSON'
	)
	for b in "${bad[@]}"; do
		run post_script "${b%%|*}"
		assert_output 400
		run cat "$TMP/script.answer"
		assert_output --partial "bad script: ${b#*|}"
	done
	run curl -sS "$SAT_ADMIN/script"
	run jq -c '[.steps[0].status, .active, (.steps | length)]' <<<"$output"
	assert_output '[503,0,1]'
}

@test "a script too long for the admin port is 413" {
	start_satellite
	head -c 20000 /dev/zero | tr '\0' ' ' >"$TMP/big.json"
	run curl -sS -o /dev/null -w '%{http_code}' -X POST --data-binary "@$TMP/big.json" "$SAT_ADMIN/script"
	assert_output 413
}

@test "[] clears the script; /reset zeroes its counts but keeps it playing" {
	report=$(mkreport_file r.bin --spans 3)
	start_satellite
	post_script '[{"at_s": 0, "for_s": 60, "status": 503}]'
	run post_report "$report"
	assert_output 503
	run curl -sS -X POST "$SAT_ADMIN/reset"
	run sat_stat '.script | [.active, .steps[0].status, .steps[0].answered] | @tsv'
	assert_output "$(printf '0\t503\t0')"
	run post_report "$report"
	assert_output 503
	run sat_stat '.script.steps[0].answered'
	assert_output 1
	run post_script '[]'
	assert_output 200
	run jq -c . "$TMP/script.answer"
	assert_output '{"steps":[],"active":null,"elapsed_s":null}'
	run post_report "$report"
	assert_output 200
	run curl -sS -o /dev/null -w '%{http_code}' -X DELETE "$SAT_ADMIN/script"
	assert_output 405
}

@test "--help says how scripts go and that /reset keeps them" {
	run ltb-satellite --help
	assert_success
	assert_line --partial 'POST /script, GET /script'
	assert_line --partial 'POST /reset'
	assert_output --partial 'keeps the script and its clock'
}
