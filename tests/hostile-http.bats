#!/usr/bin/env bats
# hostile-http.bats: ltb-satellite against HTTP that peers should not send.
#
# Requests are written byte for byte on a raw socket (python3's socket
# module), as a peer or a proxy in front of the satellite would: what
# matters is what comes back on the connection, and whether it closes.

load test_helper

# Hostile peers need nothing a fresh machine lacks (python3 and curl are in
# every stage): they run on the normal and the sanitizer build.
LTB_NOT_IN_FRESH_ROOT="hostile peers are tested on the normal and sanitizer builds"

# raw PORT REQUEST [SECONDS]: send REQUEST (printf %b escapes) on a fresh
# connection to 127.0.0.1:PORT and print all that comes back, then
# "<closed>" if the satellite closed the connection within SECONDS
# (default 3) or "<open>" if it was still open.
raw() {
	printf '%b' "$2" >"$TMP/request"
	raw_file "$1" "$TMP/request" "${3:-3}"
}

# raw_file PORT FILE [SECONDS]: the same with the request's bytes in FILE;
# over TLS (no certificate check) when RAW_TLS=1.
raw_file() {
	RAW_TLS=${RAW_TLS:-0} python3 - "$1" "$2" "${3:-3}" <<'EOF'
import os, socket, ssl, sys, time
port, path, limit = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port))
if os.environ["RAW_TLS"] == "1":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s = ctx.wrap_socket(s)
s.sendall(open(path, "rb").read())
end = time.monotonic() + limit
out, state = b"", "<open>"
while time.monotonic() < end:
    s.settimeout(max(0.01, end - time.monotonic()))
    try:
        b = s.recv(65536)
    except socket.timeout:
        break
    except (ConnectionResetError, ssl.SSLEOFError):
        state = "<closed>"
        break
    if not b:
        state = "<closed>"
        break
    out += b
sys.stdout.write(out.decode("latin1") + "\n" + state + "\n")
EOF
}

# status_lines: how many HTTP status lines $output holds.
status_lines() {
	grep -o 'HTTP/1\.[01] [0-9][0-9][0-9] ' <<<"$output" | wc -l
}

H='Host: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n'
NEXT='GET /spans_received HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'

@test "two Content-Length headers are 400, the connection closes, a request smuggled behind is not answered" {
	start_satellite
	run raw "$SAT_PORT" "POST /api/v2/reports HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 500\r\n\r\nhello$NEXT"
	assert_success
	assert_line --index 0 --regexp '^HTTP/1\.1 400 '
	assert_output --partial 'more than one Content-Length'
	assert_line '<closed>'
	[ "$(status_lines)" -eq 1 ]
	[ "$(sat_stat .bad_requests)" -eq 1 ]
	[ "$(sat_stat .ports[0].bad_requests)" -eq 1 ]
	[ "$(sat_stat .reports)" -eq 0 ]
	[ "$(sat_stat .rejected_reports)" -eq 0 ]
}

@test "two equal Content-Length headers are refused too, even when both are 0" {
	start_satellite
	run raw "$SAT_PORT" "POST /api/v2/reports HTTP/1.1\r\n${H}Content-Length: 0\r\nContent-Length: 0\r\n\r\n$NEXT"
	assert_line --index 0 --regexp '^HTTP/1\.1 400 '
	assert_line '<closed>'
	[ "$(status_lines)" -eq 1 ]
	[ "$(sat_stat .bad_requests)" -eq 1 ]
}

@test "--tls: two Content-Length headers are 400 and the connection closes there too" {
	start_satellite --tls
	RAW_TLS=1 run raw "$SAT_PORT" "POST /api/v2/reports HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 500\r\n\r\nhello$NEXT"
	assert_line --index 0 --regexp '^HTTP/1\.1 400 '
	assert_line '<closed>'
	[ "$(status_lines)" -eq 1 ]
	[ "$(sat_stat .bad_requests)" -eq 1 ]
}

@test "Content-Length beside Transfer-Encoding, a Transfer-Encoding but chunked, a name with a space: 400 and closed" {
	start_satellite
	local req n=0
	for req in \
	    "POST /api/v2/reports HTTP/1.1\r\n${H}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n$NEXT" \
	    "POST /v1/traces HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n$NEXT" \
	    "POST /api/v2/reports HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n$NEXT" \
	    "POST /api/v2/reports HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n$NEXT" \
	    "POST /api/v2/reports HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\n\r\nhello" \
	    "POST /api/v2/reports HTTP/1.1\r\n${H}Content-Length : 5\r\n\r\nhello$NEXT" \
	    "GET /spans_received HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n$NEXT"; do
		run raw "$SAT_PORT" "$req"
		assert_line --index 0 --regexp '^HTTP/1\.1 400 '
		assert_output --partial 'ambiguous request: '
		assert_line '<closed>'
		[ "$(status_lines)" -eq 1 ]
		n=$((n + 1))
	done
	[ "$(sat_stat .bad_requests)" -eq "$n" ]
	[ "$(sat_stat .reports)" -eq 0 ]
}

# libmicrohttpd answers these itself before the satellite's handler runs;
# 0.9.75 writes its status line and headers twice (README), so only the
# first status line and the close are asserted.
@test "a Content-Length of -5, abc or 2^64+1: the library's 400 or 413 first, closed, counted, no report" {
	start_satellite
	local v want
	for v in -5:400 abc:400 18446744073709551617:413; do
		want=${v##*:}
		run raw "$SAT_PORT" "POST /api/v2/reports HTTP/1.1\r\n${H}Content-Length: ${v%:*}\r\n\r\nhello$NEXT"
		assert_line --index 0 --regexp "^HTTP/1\\.1 $want "
		assert_line '<closed>'
		refute_output --partial 'HTTP/1.1 200'
	done
	[ "$(sat_stat .bad_requests)" -eq 3 ]
	[ "$(sat_stat .reports)" -eq 0 ]
	[ "$(sat_stat .spans_received)" -eq 0 ]
}

@test "bad chunked framing is 400 from the library, counted in bad_requests, no report" {
	start_satellite
	run raw "$SAT_PORT" "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n$NEXT"
	assert_line --index 0 --regexp '^HTTP/1\.1 400 '
	assert_line '<closed>'
	[ "$(status_lines)" -eq 1 ]
	[ "$(sat_stat .bad_requests)" -eq 1 ]
	[ "$(sat_stat .reports)" -eq 0 ]
}

@test "a header line without a colon is 400, counted" {
	start_satellite
	run raw "$SAT_PORT" "POST /api/v2/reports HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n"
	assert_line --index 0 --regexp '^HTTP/1\.1 400 '
	assert_line '<closed>'
	[ "$(sat_stat .bad_requests)" -eq 1 ]
}

# What the library leaves to nothing of ours: a request line without a
# space is closed without an answer, seen only as a connection (README).
@test "a malformed request line is closed: a connection, no request, no report" {
	start_satellite
	run raw "$SAT_PORT" 'GARBAGE\r\n\r\n'
	assert_output --regexp '^
<closed>$'
	[ "$(sat_stat .connections)" -eq 1 ]
	[ "$(sat_stat .requests)" -eq 0 ]
	[ "$(sat_stat .reports)" -eq 0 ]
}

@test "well-framed requests still pass: chunked and pipelined reports on one connection are all taken" {
	start_satellite
	local body one two
	body=$(mkreport_file r.bin --spans 3 --tags 1 --logs 1)
	one=$(mkreport_file r1.bin --spans 2 --tags 1 --logs 1 --seed 7)
	two=$(mkreport_file r2.bin --spans 4 --tags 1 --logs 1 --seed 9)
	run post_report "$body" "$SAT_PORT" -H 'Transfer-Encoding: chunked'
	assert_output 200
	# Two reports and a GET back to back, on one connection.
	{
		printf 'POST /api/v2/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n' "$(stat -c %s "$one")"
		cat "$one"
		printf 'POST /api/v2/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n' "$(stat -c %s "$two")"
		cat "$two"
		printf 'GET /spans_received HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
	} >"$TMP/pipelined"
	run raw_file "$SAT_PORT" "$TMP/pipelined"
	[ "$(grep -o 'HTTP/1\.1 200 ' <<<"$output" | wc -l)" -eq 3 ]
	assert_line '9'
	[ "$(sat_stat .spans_received)" -eq 9 ]
	[ "$(sat_stat .bad_requests)" -eq 0 ]
}
