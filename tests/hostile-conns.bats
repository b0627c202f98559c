#!/usr/bin/env bats
# ltb-satellite against hostile or broken peers: a real satellite on
# loopback, a real tracer's report (curl), and holdconns playing the peer
# that floods a port with connections. Every load is bounded: holdconns
# exits by itself after --seconds, and teardown ends it by PID.

load test_helper

# Hostile peers need nothing a fresh machine lacks (python3 and curl are in
# every stage): they run on the normal and the sanitizer build.
LTB_NOT_IN_FRESH_ROOT="hostile peers are tested on the normal and sanitizer builds"

# ---- connections

# hold ARGS...: holdconns in the background, until it has done opening
# (its "held" line). Sets HOLD_PID and HOLD_OUT.
hold() {
	HOLD_OUT=$TMP/hold.$RANDOM.out
	holdconns "$@" >"$HOLD_OUT" 2>"$HOLD_OUT.err" &
	HOLD_PID=$!
	started "$HOLD_PID"
	wait_for 30 grep -q '"held"' "$HOLD_OUT"
}

# A tracer's report of 100 spans to port $1: its HTTP status, or 000 (15 s
# at most: getting through is the point, not speed on a loaded machine).
# It is sent again after a reset, as tracers do: on a loaded machine the
# flood's connections still being set up (SYNs retried by the kernel)
# arrive after the report's, and can evict it before its headers are
# read, so nothing of it was counted and a retry counts it once.
report_100() {
	local report
	report=$(mkreport_file r100.bin --spans 100)
	post_report "$report" "$1" --max-time 15 --retry 3 --retry-delay 1 \
		--retry-all-errors 2>/dev/null || true
}

stat_at_least() { (($(sat_stat "$1") >= $2)); }

@test "connections: a report gets through 2000 idle connections held on its port, counted" {
	start_satellite
	hold --port "$SAT_PORT" --connections 2000 --seconds 20
	run report_100 "$SAT_PORT"
	assert_output 200
	run sat_stat '.ports[0].spans_received'
	assert_output 100
	run sat_stat '.spans_received'
	assert_output 100
	# Room was made by evicting the connections idle longest.
	stat_at_least '.ports[0].evicted_connections' 1
	stat_at_least '.evicted_connections' 1
	run sat_stat '[.refused_connections, .ports[1].evicted_connections] | @tsv'
	assert_output "$(printf '0\t0')"
	# Never more open than the port's limit.
	(($(sat_stat '.ports[0].connections_open') <= 256))
}

@test "connections: a report gets through a 300-connection slowloris, and the headers' deadline closes them" {
	start_satellite
	hold --port "$SAT_PORT" --connections 300 --slowloris --seconds 12
	t0=$SECONDS
	run report_100 "$SAT_PORT"
	assert_output 200
	run sat_stat '.spans_received'
	assert_output 100
	# Each sends a header line a second, which used to keep it alive:
	# within 6 s of their request lines, the 5 s deadline closes them.
	wait_for $((6 - (SECONDS - t0) + 1)) stat_at_least .header_timeouts 1
	stat_at_least '.ports[0].header_timeouts' 1
	# By the time holdconns stops, the satellite has closed every one of
	# its connections, each either evicted or past its deadline.
	wait_gone "$HOLD_PID" 15
	run jq -r 'select(.type == "done") | [.open, .opened == .closed_by_peer] | @tsv' "$HOLD_OUT"
	assert_output "$(printf '0\ttrue')"
	opened=$(jq -r 'select(.type == "done") | .opened' "$HOLD_OUT")
	run sat_stat '.evicted_connections + .header_timeouts'
	assert_output "$opened"
}

@test "connections: over --tls, a report gets through 2000 connections that never say hello" {
	start_satellite --tls --cert-out "$TMP/cert.pem"
	hold --port "$SAT_PORT" --connections 2000 --seconds 20
	report=$(mkreport_file r.bin --spans 100)
	run curl -sS -o /dev/null -w '%{http_code}' --max-time 5 \
		--cacert "$TMP/cert.pem" -H 'Content-Type: application/octet-stream' \
		--data-binary "@$report" "https://127.0.0.1:$SAT_PORT/api/v2/reports"
	assert_output 200
	run sat_stat '.spans_received'
	assert_output 100
	# Room was made by evicting the longest handshakes, not counted as
	# failed handshakes.
	stat_at_least '.ports[0].evicted_connections' 1
	run sat_stat '.tls_handshake_failures < .connections - .evicted_connections'
	assert_output true
}

@test "connections: with the port full, a new connection evicts the one idle longest" {
	start_satellite --max-connections 2
	exec 7<>"/dev/tcp/127.0.0.1/$SAT_PORT"
	wait_for 5 stat_at_least .connections_open 1
	exec 8<>"/dev/tcp/127.0.0.1/$SAT_PORT"
	wait_for 5 stat_at_least .connections_open 2
	exec 9<>"/dev/tcp/127.0.0.1/$SAT_PORT"
	# The first is closed: reading it gives end of file.
	run timeout 5 cat <&7
	assert_success
	assert_output ""
	# The other two work.
	for fd in 8 9; do
		printf 'GET /spans_received HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&$fd
		run timeout 5 head -n 1 <&$fd
		assert_output --regexp '^HTTP/1\.1 200'
	done
	exec 7>&- 8>&- 9>&-
	run sat_stat '[.connections, .evicted_connections, .refused_connections] | @tsv'
	assert_output "$(printf '3\t1\t0')"
}

@test "connections: a connection slow over its headers is evicted before a newer idle one" {
	start_satellite --max-connections 2
	exec 7<>"/dev/tcp/127.0.0.1/$SAT_PORT"
	wait_for 5 stat_at_least .connections_open 1
	# The first starts a request and never ends its headers.
	printf 'POST /api/v2/reports HTTP/1.1\r\nHost: x\r\n' >&7
	wait_for 5 stat_at_least .requests 1
	sleep 0.3
	exec 8<>"/dev/tcp/127.0.0.1/$SAT_PORT"
	wait_for 5 stat_at_least .connections_open 2
	exec 9<>"/dev/tcp/127.0.0.1/$SAT_PORT"
	run timeout 5 cat <&7
	assert_success
	# The idle one still works.
	printf 'GET /spans_received HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&8
	run timeout 5 head -n 1 <&8
	assert_output --regexp '^HTTP/1\.1 200'
	exec 7>&- 8>&- 9>&-
	run sat_stat '[.evicted_connections, .header_timeouts] | @tsv'
	assert_output "$(printf '1\t0')"
}

@test "connections: with every connection busy with a body, a new one is refused and counted" {
	start_satellite --max-connections 2
	for fd in 7 8; do
		eval "exec $fd<>/dev/tcp/127.0.0.1/$SAT_PORT"
		printf 'POST /api/v2/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 100\r\n\r\nab' >&$fd
	done
	wait_for 5 stat_at_least .requests 2
	sleep 0.2
	exec 9<>"/dev/tcp/127.0.0.1/$SAT_PORT"
	run timeout 5 cat <&9
	assert_success
	assert_output ""
	exec 7>&- 8>&- 9>&-
	run sat_stat '[.refused_connections, .evicted_connections, .ports[0].refused_connections] | @tsv'
	assert_output "$(printf '1\t0\t1')"
}

@test "connections: a stalled body is closed after --body-timeout, an idle connection after --idle-timeout" {
	start_satellite --body-timeout 1 --idle-timeout 1
	exec 7<>"/dev/tcp/127.0.0.1/$SAT_PORT"
	printf 'POST /api/v2/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 100\r\n\r\nab' >&7
	exec 8<>"/dev/tcp/127.0.0.1/$SAT_PORT"
	run timeout 5 cat <&7
	assert_success
	run timeout 5 cat <&8
	assert_success
	exec 7>&- 8>&-
	run sat_stat '[.body_timeouts, .idle_timeouts, .header_timeouts, .connections_open] | @tsv'
	assert_output "$(printf '1\t1\t0\t0')"
}

@test "connections: a body held back by --bandwidth is not the peer's stall: no body timeout" {
	start_satellite --bandwidth 16K --body-timeout 1
	report=$(mkreport_file r.bin --spans 100)   # about 94 KB: 6 s at 16 KiB/s, in pieces of seconds
	run post_report "$report" "$SAT_PORT" --max-time 20
	assert_output 200
	run sat_stat '[.spans_received, .body_timeouts] | @tsv'
	assert_output "$(printf '100\t0')"
}

@test "connections: /reset zeroes the connection counters but not connections_open" {
	start_satellite --max-connections 1 --idle-timeout 2
	exec 7<>"/dev/tcp/127.0.0.1/$SAT_PORT"
	wait_for 5 stat_at_least .connections_open 1
	exec 8<>"/dev/tcp/127.0.0.1/$SAT_PORT"
	wait_for 5 stat_at_least .evicted_connections 1
	wait_for 5 stat_at_least .idle_timeouts 1
	exec 9<>"/dev/tcp/127.0.0.1/$SAT_PORT"
	wait_for 5 stat_at_least .connections_open 1
	curl -sS -X POST "$SAT_ADMIN/reset" >/dev/null
	run sat_stat '[.connections, .evicted_connections, .idle_timeouts, .refused_connections, .header_timeouts, .body_timeouts, .connections_open] | @tsv'
	assert_output "$(printf '0\t0\t0\t0\t0\t0\t1')"
	exec 7>&- 8>&- 9>&-
}

@test "connections: --max-connections-total makes room across the group" {
	start_satellite --max-connections 4 --max-connections-total 2
	exec 7<>"/dev/tcp/127.0.0.1/${SAT_PORTS[1]}"
	wait_for 5 stat_at_least .connections_open 1
	exec 8<>"/dev/tcp/127.0.0.1/${SAT_PORTS[1]}"
	wait_for 5 stat_at_least .connections_open 2
	# The group is full; a report to the other port evicts one of the
	# first port's.
	run report_100 "$SAT_PORT"
	assert_output 200
	run sat_stat '[.evicted_connections, .ports[1].evicted_connections, .ports[0].evicted_connections] | @tsv'
	assert_output "$(printf '1\t1\t0')"
	exec 7>&- 8>&-
}

@test "connections: bad limits and deadlines are usage errors; --help names them" {
	run ltb-satellite --max-connections-total 0
	assert_failure 2
	assert_line --partial "bad --max-connections-total '0'"
	run ltb-satellite --header-timeout x
	assert_failure 2
	assert_line --partial "bad --header-timeout 'x'"
	run ltb-satellite --help
	assert_success
	for w in --max-connections-total --header-timeout --body-timeout \
		connections_open refused_connections evicted_connections \
		header_timeouts body_timeouts idle_timeouts; do
		assert_line --partial -- "$w"
	done
}

@test "connections: limits the descriptor limit cannot hold are lowered, with a warning" {
	(
		ulimit -n 600
		start_satellite --max-connections 500
		wait_for 5 test -s "$SAT_OUT.err"
		cat "$SAT_OUT.err" >"$TMP/warning"
	)
	run cat "$TMP/warning"
	assert_output "ltb-satellite: --max-connections-total lowered from 1024 to 216: 600 descriptors allowed (RLIMIT_NOFILE)"
}
