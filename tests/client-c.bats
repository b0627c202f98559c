#!/usr/bin/env bats
# client-c: the built-in C client (clients/c/run), given its control
# message as a file:// URL and reporting to a real ltb-satellite.

load test_helper

setup() {
	ltb_setup
	# The build tree the tools came from. Not $LTB_BUILD: test_helper
	# prefixes it with the root again each time it is loaded, and an
	# exported absolute value then points nowhere.
	CLIENT_BUILD=$(cd "$(dirname "$(command -v ltb-satellite)")/.." && pwd)
}

# control JSON: write a control message (the satellite's ports unless it
# names its own) and point LTB_CONTROL_URL at it.
control() {
	local ports
	ports=$(printf '%s\n' "${SAT_PORTS[@]:-8360}" | jq -sc .)
	jq -c --argjson p "$ports" '{SatellitePorts: $p} + .' <<<"$1" >"$TMP/control.json"
	export LTB_CONTROL_URL=file://$TMP/control.json
}

client() {
	LTB_BUILD=$CLIENT_BUILD "$LTB_ROOT/clients/c/run" "$@"
}

# field NAME: a field of the client's output line.
field() {
	jq -r ".$1" <<<"$output"
}

# capture [CERT KEY]: a collector that answers every POST 200 and keeps
# it: the bodies, one after the other, in $TMP/report.bin, and
# "PATH CONTENT-TYPE" a line in $TMP/requests. Over TLS with CERT and KEY.
# Its port becomes SAT_PORTS.
capture() {
	command -v python3 >/dev/null || skip "no python3 for the capturing server"
	python3 -c '
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        open(sys.argv[1], "ab").write(body)
        with open(sys.argv[2], "a") as f:
            print(self.path, self.headers["Content-Type"], file=f)
        self.send_response(200); self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
if len(sys.argv) > 3:
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    c.load_cert_chain(sys.argv[3], sys.argv[4])
    s.socket = c.wrap_socket(s.socket, server_side=True)
print(s.server_address[1], flush=True)
s.serve_forever()' "$TMP/report.bin" "$TMP/requests" "$@" >"$TMP/port" &
	started $!
	wait_for 10 test -s "$TMP/port"
	SAT_PORTS=("$(cat "$TMP/port")")
}

# certificate NAME: a self-signed certificate for 127.0.0.1, its own CA,
# in $TMP/NAME.crt with its key in $TMP/NAME.key.
certificate() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=$1" \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$TMP/$1.key" \
		-out "$TMP/$1.crt" 2>/dev/null
}

# cpu_client: run the client as `run --separate-stderr client` does, and
# set cpu_ms to the user and system CPU it used (its own rusage, through
# bash's time, to the millisecond).
cpu_client() {
	local TIMEFORMAT='%3U %3S' t
	t=$({ time client >"$TMP/client.out" 2>"$TMP/client.err"; } 2>&1) && status=0 || status=$?
	output=$(cat "$TMP/client.out")
	stderr=$(cat "$TMP/client.err")
	cpu_ms=$(awk '{ printf "%d", ($1 + $2) * 1000 }' <<<"$t")
}

# tracer_version: the version the tracer's header declares.
tracer_version() {
	sed -n 's/^#define LTB_TRACER_VERSION[[:space:]]*"\([^"]*\)".*/\1/p' \
		"$LTB_ROOT/common/client/ltb_tracer.h"
}

# otlp_spans FILE: how many spans the OTLP bodies in FILE hold.
otlp_spans() {
	protoc-c --decode=ltb.otlp.ExportTraceServiceRequest \
		-I "$LTB_ROOT/common/collector/proto" otlp_trace.proto <"$1" |
		grep -c '^    spans {'
}

@test "without Trace it makes Repeat spans and sends nothing" {
	start_satellite
	control '{"Trace": false, "Repeat": 120, "Work": 100}'
	run --separate-stderr client
	assert_success
	assert_output '{"type":"client","v":1,"client":"c","trace":false,"spans_sent":120,"dropped":0,"reports_ok":0,"reports_failed":0,"tracer":"noop","planted_ns":0}'
	[ "$(sat_stat .spans_received)" = 0 ]
	[ "$(sat_stat .reports)" = 0 ]
}

@test "traced, every one of 1000 spans reaches the satellite once" {
	start_satellite
	control '{"Trace": true, "Repeat": 1000, "Work": 100, "ReportingPeriodMs": 50}'
	run --separate-stderr client
	assert_success
	[ "$(field type)" = client ]
	[ "$(field trace)" = true ]
	[ "$(field spans_sent)" = 1000 ]
	[ "$(field dropped)" = 0 ]
	[ "$(field reports_failed)" = 0 ]
	[ "$(sat_stat .spans_received)" = 1000 ]
	[ "$(sat_stat .invalid_spans)" = 0 ]
	[ "$(sat_stat .duplicate_spans)" = 0 ]
	[ "$(sat_stat .reports)" = "$(field reports_ok)" ]
	[ "$stderr" = "" ]
}

@test "an IPv6 SatelliteHost is bracketed in its URLs: every span reaches ::1" {
	ip -6 addr show lo 2>/dev/null | grep -q 'inet6 ::1/128' ||
		skip "no ::1 on lo"
	start_satellite -b ::1
	control '{"Trace": true, "Repeat": 100, "SatelliteHost": "::1", "ReportingPeriodMs": 50}'
	run --separate-stderr client
	echo "$stderr"
	assert_success
	[ "$(field dropped)" = 0 ]
	[ "$(sat_stat .spans_received)" = 100 ]
}

@test "spans nest in chains of 6, the last one shorter" {
	# a collector that keeps the report body, so lsdecode can read it
	capture
	control '{"Trace": true, "Repeat": 13, "ReportingPeriodMs": 60000}'
	run --separate-stderr client
	assert_success
	[ "$(field dropped)" = 0 ]
	run lsdecode report "$TMP/report.bin"
	assert_success
	assert_line "spans 13"
	# one trace per chain, innermost span finished first
	run awk '$1 == "span" { print $2 }' <<<"$output"
	[ "$(sort <<<"$output" | uniq -c | awk '{ print $1 }' | sort -n | tr '\n' ' ')" = "1 6 6 " ]
	run lsdecode report "$TMP/report.bin"
	run awk '$1 == "span" { print $4 }' <<<"$output"
	assert_output "$(printf '%s\n' db/read db/query cache/lookup auth/verify \
		server/handle client/request db/read db/query cache/lookup \
		auth/verify server/handle client/request client/request)"
}

@test "NumTags and NumLogs set what a span carries" {
	start_satellite
	control '{"Trace": true, "Repeat": 600, "NumTags": 0, "NumLogs": 0}'
	run client
	assert_success
	bare=$(( $(sat_stat .bytes) / $(sat_stat .spans_received) ))
	curl -sS -X POST "$SAT_ADMIN/reset" >/dev/null
	control '{"Trace": true, "Repeat": 600, "NumTags": 10, "NumLogs": 15}'
	run client
	assert_success
	full=$(( $(sat_stat .bytes) / $(sat_stat .spans_received) ))
	curl -sS -X POST "$SAT_ADMIN/reset" >/dev/null
	control '{"Trace": true, "Repeat": 600, "NumTags": 40, "NumLogs": 0}'
	run client
	assert_success
	tags=$(( $(sat_stat .bytes) / $(sat_stat .spans_received) ))
	echo "bytes per span: bare $bare, 10+15 $full, 40 tags $tags" >&3
	# ids, name, times and a reference: tens of bytes; each tag or log
	# some tens more
	(( bare > 30 && bare < 120 ))
	(( full > 600 && full < 1500 ))
	(( tags > full / 2 && tags - bare > 40 * 12 ))
}

@test "NoFlush drops what is still buffered at the end" {
	start_satellite
	control '{"Trace": true, "Repeat": 100, "NoFlush": true, "ReportingPeriodMs": 60000}'
	run --separate-stderr client
	assert_success
	[ "$(field spans_sent)" = 100 ]
	[ "$(field dropped)" = 100 ]
	[ "$(sat_stat .spans_received)" = 0 ]
	control '{"Trace": true, "Repeat": 100, "NoFlush": false, "ReportingPeriodMs": 60000}'
	run --separate-stderr client
	assert_success
	[ "$(field dropped)" = 0 ]
	[ "$(sat_stat .spans_received)" = 100 ]
}

@test "a full buffer drops spans and counts them" {
	start_satellite
	control '{"Trace": true, "Repeat": 500, "MaxBufferedSpans": 100, "ReportingPeriodMs": 60000}'
	run --separate-stderr client
	assert_success
	[ "$(field dropped)" = 400 ]
	[ "$(sat_stat .spans_received)" = 100 ]
}

@test "with the satellites down it still exits 0, in time, having dropped every span" {
	start_satellite
	curl -sS -X POST "$SAT_ADMIN/down" >/dev/null
	control '{"Trace": true, "Repeat": 300, "Sleep": 1000000, "SleepInterval": 20000000, "ReportingPeriodMs": 50}'
	SECONDS=0
	run --separate-stderr timeout 10 env LTB_BUILD="$CLIENT_BUILD" \
		"$LTB_ROOT/clients/c/run"
	assert_success
	(( SECONDS < 5 ))
	[ "$(field spans_sent)" = 300 ]
	[ "$(field dropped)" = 300 ]
	[ "$(field reports_ok)" = 0 ]
	(( $(field reports_failed) >= 2 ))
	[[ $stderr == "ltb-client-c: "*" reports failed, the last: POST http://127.0.0.1:"*"/api/v2/reports: "* ]]
}

@test "sleep debt is paid in SleepInterval pieces" {
	control '{"Trace": false, "Repeat": 12, "Sleep": 25000000, "SleepInterval": 50000000}'
	start=$(date +%s%N)
	run client
	assert_success
	# 12 spans x 25 ms = 300 ms of debt, paid down to at most 50 ms left
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	(( ms >= 250 && ms < 2000 ))
}

@test "a control URL that cannot be read is exit 2, naming the URL" {
	LTB_CONTROL_URL=file://$TMP/nothing-here run --separate-stderr client
	assert_failure 2
	assert_output ""
	[[ $stderr == "ltb-client-c: cannot fetch the control message from file://$TMP/nothing-here: "* ]]
	LTB_CONTROL_URL=http://127.0.0.1:1/control run --separate-stderr client
	assert_failure 2
	[[ $stderr == "ltb-client-c: cannot fetch the control message from http://127.0.0.1:1/control: "* ]]
}

@test "a malformed control message is exit 2, saying what is wrong" {
	printf '{"Trace": true, "Repeat": ' >"$TMP/bad.json"
	LTB_CONTROL_URL=file://$TMP/bad.json run --separate-stderr client
	assert_failure 2
	assert_output ""
	[ "$stderr" = "ltb-client-c: bad control message from file://$TMP/bad.json: not JSON" ]
	printf '{"Repeat": "many"}' >"$TMP/bad.json"
	LTB_CONTROL_URL=file://$TMP/bad.json run --separate-stderr client
	assert_failure 2
	[[ $stderr == *"Repeat: not an integer"* ]]
}

@test "run says how to build the client when it is missing" {
	mkdir -p "$TMP/tree/clients/c"
	cp "$LTB_ROOT/clients/c/run" "$TMP/tree/clients/c/run"
	LTB_BUILD=no-such-build run -127 --separate-stderr "$TMP/tree/clients/c/run"
	assert_failure 127
	[ "$stderr" = "clients/c/run: the C client is not built: run make" ]
}

@test "with Protocol otlp every one of 1000 spans reaches the satellite once" {
	start_satellite
	control '{"Trace": true, "Repeat": 1000, "Work": 100, "ReportingPeriodMs": 50, "Protocol": "otlp"}'
	run --separate-stderr client
	[ -z "$stderr" ] || echo "$stderr" >&3
	assert_success
	[ "$(field spans_sent)" = 1000 ]
	[ "$(field dropped)" = 0 ]
	[ "$(field reports_failed)" = 0 ]
	[ "$(sat_stat .spans_received)" = 1000 ]
	[ "$(sat_stat .invalid_spans)" = 0 ]
	[ "$(sat_stat .duplicate_spans)" = 0 ]
	[ "$stderr" = "" ]
}

@test "with Protocol otlp it POSTs protobuf to /v1/traces" {
	capture
	control '{"Trace": true, "Repeat": 13, "ReportingPeriodMs": 60000, "Protocol": "otlp"}'
	run --separate-stderr client
	assert_success
	[ "$(field dropped)" = 0 ]
	run cat "$TMP/requests"
	assert_output "/v1/traces application/x-protobuf"
	[ "$(otlp_spans "$TMP/report.bin")" = 13 ]
}

@test "an unknown Protocol is exit 2 naming the known ones" {
	printf '{"Trace": true, "Repeat": 10, "Protocol": "zipkin"}' >"$TMP/bad.json"
	LTB_CONTROL_URL=file://$TMP/bad.json run --separate-stderr client
	assert_failure 2
	assert_output ""
	[ "$stderr" = "ltb-client-c: bad control message from file://$TMP/bad.json: Protocol: unknown protocol 'zipkin' (known: lightstep, otlp, spectatord, atlas, osprofiler)" ]
	# A metrics protocol is known, but not this client's.
	printf '{"Trace": true, "Repeat": 10, "Protocol": "spectatord"}' >"$TMP/bad.json"
	LTB_CONTROL_URL=file://$TMP/bad.json run --separate-stderr client
	assert_failure 2
	[[ $stderr == *"Protocol spectatord is a metrics protocol: run the c-spectator client"* ]]
	printf '{"Tls": "yes"}' >"$TMP/bad.json"
	LTB_CONTROL_URL=file://$TMP/bad.json run --separate-stderr client
	assert_failure 2
	[[ $stderr == *"Tls: not true or false" ]]
}

@test "with Tls it reports over https without verifying the certificate" {
	certificate sat
	capture "$TMP/sat.crt" "$TMP/sat.key"
	for protocol in lightstep otlp; do
		: >"$TMP/report.bin"
		control '{"Trace": true, "Repeat": 13, "ReportingPeriodMs": 60000, "Tls": true, "TlsCaFile": null, "Protocol": "'$protocol'"}'
		run --separate-stderr client
		assert_success
		[ "$(field dropped)" = 0 ]
		[ "$(field reports_ok)" = 1 ]
		[ "$stderr" = "" ]
	done
	run cat "$TMP/requests"
	assert_output "$(printf '%s\n' '/api/v2/reports application/octet-stream' \
		'/v1/traces application/x-protobuf')"
	[ "$(otlp_spans "$TMP/report.bin")" = 13 ]
}

@test "with TlsCaFile it verifies the certificate: another CA's fails, its own passes" {
	certificate sat
	certificate other
	capture "$TMP/sat.crt" "$TMP/sat.key"
	control '{"Trace": true, "Repeat": 13, "ReportingPeriodMs": 60000, "Tls": true, "TlsCaFile": "'"$TMP/other.crt"'"}'
	run --separate-stderr client
	assert_success
	[ "$(field dropped)" = 13 ]
	[ "$(field reports_failed)" = 1 ]
	[[ $stderr == *"POST https://127.0.0.1:${SAT_PORTS[0]}/api/v2/reports: "*certificate* ]]
	control '{"Trace": true, "Repeat": 13, "ReportingPeriodMs": 60000, "Tls": true, "TlsCaFile": "'"$TMP/sat.crt"'"}'
	run --separate-stderr client
	assert_success
	[ "$(field dropped)" = 0 ]
	[ "$(field reports_ok)" = 1 ]
}

@test "with Tls against a plain satellite every report fails, naming https" {
	start_satellite
	control '{"Trace": true, "Repeat": 60, "ReportingPeriodMs": 60000, "Tls": true}'
	run --separate-stderr client
	assert_success
	[ "$(field dropped)" = 60 ]
	[ "$(field reports_failed)" = 1 ]
	[[ $stderr == *"the last: POST https://127.0.0.1:"*"/api/v2/reports: "* ]]
	[ "$(sat_stat .spans_received)" = 0 ]
}

@test "the summary names the tracer, its protocol and version; NoOp is noop" {
	version=$(tracer_version)
	[ -n "$version" ]
	start_satellite
	control '{"Trace": true, "Repeat": 12}'
	run --separate-stderr client
	assert_success
	[ "$(field tracer)" = "ltb-tracer lightstep $version" ]
	control '{"Trace": true, "Repeat": 12, "Protocol": "otlp"}'
	run --separate-stderr client
	assert_success
	[ "$(field tracer)" = "ltb-tracer otlp $version" ]
	control '{"Trace": false, "Repeat": 12}'
	run --separate-stderr client
	assert_success
	[ "$(field tracer)" = noop ]
}

@test "PlantedNsPerSpan burns that much CPU per traced span, and the summary measures it" {
	start_satellite
	control '{"Trace": true, "Repeat": 5000, "Work": 0, "PlantedNsPerSpan": 0}'
	cpu_client
	assert_success
	[ "$(field planted_ns)" = 0 ]
	[ "$(field planted_ns_measured)" = null ]
	base=$cpu_ms
	# 200 us x 5000 spans: one CPU-second more
	control '{"Trace": true, "Repeat": 5000, "Work": 0, "PlantedNsPerSpan": 200000}'
	cpu_client
	assert_success
	[ "$stderr" = "" ]
	[ "$(field spans_sent)" = 5000 ]
	[ "$(field dropped)" = 0 ]
	[ "$(field planted_ns)" = 200000 ]
	measured=$(field planted_ns_measured)
	echo "CPU ${base} ms planting nothing, ${cpu_ms} ms planting 1 s;" \
		"measured ${measured} ns/span" >&3
	(( cpu_ms - base >= 850 && cpu_ms - base <= 1150 ))
	(( measured >= 190000 && measured <= 210000 ))
}

@test "a NoOp run plants nothing whatever PlantedNsPerSpan says" {
	control '{"Trace": false, "Repeat": 5000, "Work": 0, "PlantedNsPerSpan": 200000}'
	cpu_client
	assert_success
	[ "$(field planted_ns)" = 0 ]
	[ "$(field planted_ns_measured)" = null ]
	echo "CPU ${cpu_ms} ms" >&3
	(( cpu_ms < 300 ))
}

@test "a PlantedNsPerSpan that is negative, over 1e9 or not a number is exit 2" {
	for bad in -1 1000000001 '"5000"' 2.5; do
		printf '{"Trace": true, "Repeat": 10, "PlantedNsPerSpan": %s}' "$bad" >"$TMP/bad.json"
		LTB_CONTROL_URL=file://$TMP/bad.json run --separate-stderr client
		assert_failure 2
		assert_output ""
		[ "$stderr" = "ltb-client-c: bad control message from file://$TMP/bad.json: PlantedNsPerSpan: not an integer from 0 to 1000000000" ]
	done
}
