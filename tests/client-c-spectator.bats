#!/usr/bin/env bats
# client-c-spectator: the reference metrics client (clients/c-spectator/run)
# given its control message as a file:// URL, writing spectatord lines to a
# real receiving socket (a python3 one that keeps every datagram), and run
# by ltb-sample against real ltb-satellites over udp and over unix.

load test_helper

setup() {
	ltb_setup
	# The build tree the tools came from (as client-c.bats finds it).
	CLIENT_BUILD=$(cd "$(dirname "$(command -v ltb-satellite)")/.." && pwd)
}

client() {
	LTB_BUILD=$CLIENT_BUILD "$LTB_ROOT/clients/c-spectator/run" "$@"
}

# control JSON: write a spectatord control message (Protocol, Trace and
# where to send are the test's) and point LTB_CONTROL_URL at it.
control() {
	jq -c '{Protocol: "spectatord", SleepInterval: 1000000} + .' \
		<<<"$1" >"$TMP/control.json"
	export LTB_CONTROL_URL=file://$TMP/control.json
}

# field NAME: a field of the client's output line.
field() {
	jq -r ".$1" <<<"$output"
}

# receiver udp|unix: a socket that keeps every datagram it gets, one a
# line of $TMP/datagrams (newlines inside shown as '|'), until it is
# stopped. Sets RECV_PID and RECV_AT (its port or socket path).
receiver() {
	command -v python3 >/dev/null || skip "no python3 for the receiver"
	python3 -c '
import socket, sys, os
kind, out, path = sys.argv[1], sys.argv[2], sys.argv[3]
if kind == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(("127.0.0.1", 0))
    at = s.getsockname()[1]
else:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    at = path
f = open(out, "w")
print(at, flush=True)
while True:
    d = s.recv(70000)
    f.write(d.decode().replace("\n", "|") + "\n")
    f.flush()' "$1" "$TMP/datagrams" "$TMP/recv.sock" >"$TMP/recv.at" &
	RECV_PID=$!
	started "$RECV_PID"
	wait_for 10 test -s "$TMP/recv.at"
	RECV_AT=$(cat "$TMP/recv.at")
}

# lines_received: the protocol lines in $TMP/datagrams so far; received N:
# they come to N (waiting up to 10 s for them), no more.
lines_received() {
	[[ -s $TMP/datagrams ]] || { echo 0; return; }
	tr '|' '\n' <"$TMP/datagrams" | grep -c .
}
have_lines() {
	[ "$(lines_received)" -ge "$1" ]
}
received() {
	wait_for 10 have_lines "$1" || true
	[ "$(lines_received)" -eq "$1" ]
}

@test "--help says how it is run" {
	run client --help
	assert_success
	assert_output --partial "LTB_CONTROL_URL"
}

@test "without Trace it makes Repeat measurements and writes nothing" {
	receiver udp
	control "{\"Trace\":false,\"Repeat\":500,\"SatelliteUdpPorts\":[$RECV_AT]}"
	run --separate-stderr client
	assert_success
	[ "$(field type)" = client ]
	[ "$(field client)" = c-spectator ]
	[ "$(field unit)" = measurement ]
	[ "$(field spans_sent)" = 500 ]
	[ "$(field dropped)" = 0 ]
	[ "$(field tracer)" = noop ]
	[ "$(field lines_written)" = 0 ]
	sleep 0.2
	[ "$(lines_received)" -eq 0 ]
}

@test "over udp, a datagram per line: every line arrives, meter types in turn, NumTags tags" {
	receiver udp
	control "{\"Trace\":true,\"Repeat\":300,\"Sleep\":1000000,\"NumTags\":2,\"SatelliteUdpPorts\":[$RECV_AT],\"Meters\":[\"counter\",\"timer\",\"gauge\"]}"
	run --separate-stderr client
	assert_success
	[ "$(field tracer)" = "ltb-meter spectatord udp 0.1" ]
	[ "$(field spans_sent)" = 300 ]
	[ "$(field lines_written)" = 300 ]
	[ "$(field datagrams_sent)" = 300 ]
	[ "$(field dropped)" = 0 ]
	[ "$(field send_errors)" = "{}" ]
	received 300
	[ "$(wc -l <"$TMP/datagrams")" -eq 300 ]
	run head -n 3 "$TMP/datagrams"
	assert_line --index 0 "c:ltb.counter,nf.app=api,nf.cluster=api-prod:1"
	assert_line --index 1 "t:ltb.timer,nf.app=api,nf.cluster=api-prod:0.00025"
	assert_line --index 2 "g:ltb.gauge,nf.app=api,nf.cluster=api-prod:1"
	[ "$(grep -c '^c:' "$TMP/datagrams")" -eq 100 ]
	[ "$(grep -c '^t:' "$TMP/datagrams")" -eq 100 ]
}

@test "over unix with a line buffer: lines gathered into datagrams of at most LineBufferBytes, all of them arrive" {
	receiver unix
	control "{\"Trace\":true,\"Repeat\":1000,\"NumTags\":3,\"SatelliteUnixSocket\":\"$RECV_AT\",\"LineBufferBytes\":512}"
	run --separate-stderr client
	assert_success
	[ "$(field tracer)" = "ltb-meter spectatord unix 0.1" ]
	[ "$(field lines_written)" = 1000 ]
	[ "$(field dropped)" = 0 ]
	received 1000
	datagrams=$(wc -l <"$TMP/datagrams")
	[ "$(field datagrams_sent)" = "$datagrams" ]
	[ "$datagrams" -lt 200 ]
	longest=$(awk '{ if (length($0) > n) n = length($0) } END { print n }' "$TMP/datagrams")
	[ "$longest" -le 512 ]
}

@test "UDP is taken when both are named; every meter type writes a line spectatord reads" {
	receiver udp
	control "{\"Trace\":true,\"Repeat\":11,\"NumTags\":0,\"SatelliteUdpPorts\":[$RECV_AT],\"SatelliteUnixSocket\":\"/nonexistent/x.sock\",\"Meters\":[\"counter\",\"monotonic_counter\",\"monotonic_counter_uint\",\"distribution_summary\",\"percentile_distribution_summary\",\"timer\",\"percentile_timer\",\"gauge\"]}"
	run --separate-stderr client
	assert_success
	received 11
	run cut -c1-2 "$TMP/datagrams"
	assert_output "$(printf 'c:\nC:\nU:\nd:\nD:\nt:\nT:\ng:\nc:\nC:\nU:')"
	control "{\"Trace\":true,\"Repeat\":3,\"NumTags\":0,\"SatelliteUdpPorts\":[$RECV_AT],\"Meters\":[\"max_gauge\",\"age_gauge\",\"monotonic_sampled\"]}"
	run --separate-stderr client
	assert_success
	received 14
	run tail -n 3 "$TMP/datagrams"
	assert_line --index 0 "m:ltb.max_gauge:1"
	assert_line --index 1 "A:ltb.age_gauge:0"
	assert_line --index 2 --regexp '^X,[0-9]{13}:ltb.monotonic_sampled:1$'
}

@test "NoFlush leaves the buffered lines unsent, counted as dropped" {
	receiver udp
	control "{\"Trace\":true,\"Repeat\":10,\"NoFlush\":true,\"SatelliteUdpPorts\":[$RECV_AT],\"LineBufferBytes\":60000,\"ReportingPeriodMs\":60000}"
	run --separate-stderr client
	assert_success
	[ "$(field lines_written)" = 10 ]
	[ "$(field lines_unsent)" = 10 ]
	[ "$(field dropped)" = 10 ]
	[ "$(field datagrams_sent)" = 0 ]
	sleep 0.2
	[ "$(lines_received)" -eq 0 ]
}

@test "with nobody on the UDP port it exits 0, and send()'s refusals are counted by errno as dropped" {
	receiver udp
	port=$RECV_AT
	kill "$RECV_PID"
	wait_gone "$RECV_PID" 5
	control "{\"Trace\":true,\"Repeat\":100,\"SatelliteUdpPorts\":[$port]}"
	run --separate-stderr client
	assert_success
	refused=$(field send_errors.ECONNREFUSED)
	[ "$refused" -ge 1 ]
	[ "$(field lines_failed)" = "$refused" ]
	[ "$(field dropped)" = "$refused" ]
	[[ $stderr == *"ltb-client-c-spectator: send() refused $refused of 100 lines"* ]]
}

@test "another Protocol, or nowhere to send, is exit 2 saying so" {
	control '{"Protocol":"lightstep","Trace":true}'
	run --separate-stderr client
	assert_failure 2
	[ "$stderr" = "ltb-client-c-spectator: bad control message from $LTB_CONTROL_URL: Protocol lightstep: this client speaks spectatord only" ]
	control '{"Trace":true,"SatelliteUdpPorts":[],"SatelliteUnixSocket":null}'
	run --separate-stderr client
	assert_failure 2
	[ "$stderr" = "ltb-client-c-spectator: bad control message from $LTB_CONTROL_URL: SatelliteUdpPorts is empty and SatelliteUnixSocket null: nowhere to send spectatord lines" ]
	export LTB_CONTROL_URL=file://$TMP/missing.json
	run --separate-stderr client
	assert_failure 2
	[[ $stderr == "ltb-client-c-spectator: cannot fetch the control message from file://$TMP/missing.json: "* ]]
}

@test "a unix socket nobody serves is exit 3 naming it" {
	control "{\"Trace\":true,\"SatelliteUnixSocket\":\"$TMP/none.sock\"}"
	run --separate-stderr client
	assert_failure 3
	[ "$stderr" = "ltb-client-c-spectator: cannot start the meter writer: cannot connect to unix socket $TMP/none.sock: No such file or directory" ]
}

@test "run says how to build the client when it is missing" {
	mkdir -p "$TMP/tree/clients/c-spectator"
	cp "$LTB_ROOT/clients/c-spectator/run" "$TMP/tree/clients/c-spectator/run"
	LTB_BUILD=no-such-build run -127 --separate-stderr "$TMP/tree/clients/c-spectator/run"
	assert_failure 127
	[[ $stderr == *"clients/c-spectator/run: the c-spectator client is not built: run make" ]]
}

# --- under ltb-sample, against real satellites --------------------------------

# The satellites serve spectatord's datagrams (--udp, --unix) and ltb-sample
# tells metrics clients where (SatelliteUdpPorts).
need_datagrams() {
	ltb-satellite --help 2>&1 | grep -q -- '--udp' ||
		skip "ltb-satellite has no --udp yet"
	ltb-sample --help 2>&1 | grep -q 'SatelliteUdpPorts' ||
		skip "ltb-sample does not tell metrics clients their sockets yet"
}

# plan SPS RUNTIME LINE_BUFFER: a control record for c-spectator at SPS
# measurements/s for RUNTIME s (Sleep pays for the rate: no Work, so no
# calibration is needed).
plan() {
	jq -nc --argjson sps "$1" --argjson rt "$2" --argjson lb "$3" '{type:"control",
		v:1, client:"c-spectator", target_sps:$sps, runtime:$rt, trial:0,
		Trace:true, Repeat:($sps * $rt), Sleep:(1e9 / $sps | floor),
		SleepInterval:10000000, Work:0, Protocol:"spectatord", NumTags:4,
		LineBufferBytes:$lb, Meters:["counter","timer","gauge"]}' >"$TMP/plan.jsonl"
}

# result FIELDS: the result's fields, tab-separated.
result() {
	jq -r "select(.type == \"result\") | [$1] | @tsv" "$TMP/results.jsonl"
}

sample() {
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 0 "$@"
	printf '%s\n' "$output" >"$TMP/results.jsonl"
}

@test "under ltb-sample over udp at 2000/s, a datagram a line: every measurement received, none dropped" {
	need_datagrams
	plan 2000 1 0
	sample
	assert_success
	# its own group, 8 HTTP, 8 UDP and a unix port, stops on SIGTERM: its
	# last stats record (70 KB) is read, not left to fill the pipe
	[[ $stderr != *"were killed"* ]]
	run result '.unit, .spans_sent, .spans_received, .dropped, .tracer_dropped, .fingerprint.tracer'
	assert_output "$(printf 'measurement\t2000\t2000\t0\t0\tltb-meter spectatord udp 0.1')"
}

@test "under ltb-sample over udp at 2000/s with a 2 KB line buffer: every measurement received, none dropped" {
	need_datagrams
	plan 2000 1 2048
	sample
	assert_success
	run result '.unit, .spans_sent, .spans_received, .dropped, .tracer_dropped'
	assert_output "$(printf 'measurement\t2000\t2000\t0\t0')"
}

# unix: a group serving only a unix socket, so the client is told no UDP
# port.
unix_satellite() {
	start_satellite --unix "$TMP/sat.sock"
	wait_for 10 test -S "$TMP/sat.sock"
}

@test "under ltb-sample over unix at 2000/s, a datagram a line: every measurement received, none dropped" {
	need_datagrams
	unix_satellite
	plan 2000 1 0
	sample --satellites "$SAT_ADMIN"
	assert_success
	run result '.unit, .spans_sent, .spans_received, .dropped, .tracer_dropped, .fingerprint.tracer'
	assert_output "$(printf 'measurement\t2000\t2000\t0\t0\tltb-meter spectatord unix 0.1')"
}

@test "under ltb-sample over unix at 2000/s with a 2 KB line buffer: every measurement received, none dropped" {
	need_datagrams
	unix_satellite
	plan 2000 1 2048
	sample --satellites "$SAT_ADMIN"
	assert_success
	run result '.unit, .spans_sent, .spans_received, .dropped, .tracer_dropped'
	assert_output "$(printf 'measurement\t2000\t2000\t0\t0')"
}

@test "under ltb-sample with the satellites down for part of the run: send()'s refusals are the client's dropped, and every measurement is accounted for" {
	need_datagrams
	plan 2000 2 0
	sample --satellite-down-at 0.5 --satellite-up-at 1.2
	assert_success
	run result '.spans_sent, .spans_received + .dropped, (.tracer_dropped > 0), (.dropped >= .tracer_dropped), (.spans_received > 0)'
	assert_output "$(printf '4000\t4000\ttrue\ttrue\ttrue')"
	# a connected UDP socket hears of the ICMP answer on its next send:
	# the client sees about half of what was lost, the satellites all of it
	[[ $stderr == *"ltb-client-c-spectator: send() refused "*" of 4000 lines"* ]]
}
