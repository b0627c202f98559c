#!/usr/bin/env bats
# ltb-sample-ports.bats: where ltb-sample's own satellites and its control
# server listen, for clients that do not read where they are told to
# report (issue 14). The original LightStep Benchmarks clients hard-code
# their satellites at 127.0.0.1:8360-8367, and the early ones fetch their
# control message from http://localhost:8023/control: ltb-sample's own
# group takes 8360-8367 when they are free (else free ports, with one
# warning), --satellite-ports chooses, and --control-port 8023 serves the
# early clients.
#
# These tests use fixed ports that other tests on the machine may hold
# for a moment: a test skips, saying so, only when a port it needs is
# taken by something not its own when it starts.

load test_helper

LTB_NOT_IN_FRESH_ROOT="ltb-sample needs only what client-c.bats and make demo use there; run on the normal and sanitizer builds"

# port_busy PORT: 0 when something listens on 127.0.0.1:PORT.
port_busy() {
	python3 - "$1" <<-'PY'
	import socket, sys
	s = socket.socket()
	s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	try:
	    s.bind(("127.0.0.1", int(sys.argv[1])))
	except OSError:
	    sys.exit(0)
	sys.exit(1)
	PY
}

# need_free PORT...: skip when one is taken by something not ours.
need_free() {
	local p
	for p in "$@"; do
		if port_busy "$p"; then
			skip "127.0.0.1:$p is taken by something else (another test?): $(ss -Htlnp "sport = :$p" 2>/dev/null | head -n 1)"
		fi
	done
}

# hold_port PORT: listen on 127.0.0.1:PORT until teardown (never
# accepting: a connection waits in the backlog). Sets HOLD_PID.
hold_port() {
	python3 -c '
import socket, sys, time
s = socket.socket()
# as a server would: a port whose last connections wait in TIME_WAIT
# (the previous test of ours) can be listened on again
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
print("held", flush=True)
time.sleep(60)
' "$1" >"$TMP/hold.$1" &
	HOLD_PID=$!
	started "$HOLD_PID"
	wait_for 5 grep -q held "$TMP/hold.$1" || fail "could not hold port $1"
}

# hardcoded_client [PORT] [N]: a client that fetches its message where it
# is told but ignores SatellitePorts: it POSTs N (default 100) spans to
# 127.0.0.1:PORT (default 8360), as the original clients did.
hardcoded_client() {
	local port=${1:-8360} n=${2:-100}
	cat >"$TMP/client.sh" <<SH
curl -sS "\$LTB_CONTROL_URL" -o /dev/null || exit 1
$LTB_BUILD_DIR/tests/tools/mkreport --spans $n |
	curl -s --max-time 2 --data-binary @- -o /dev/null \
	http://127.0.0.1:$port/api/v2/reports
echo '{"type":"client","spans_sent":$n}'
SH
	control_record "$TMP/plan.jsonl" client_cmd="\"sh $TMP/client.sh\"" \
		Trace=true Repeat="$n"
}

# SatellitePorts the client was told, from a client that keeps its message.
keep_client() {
	cat >"$TMP/client.sh" <<SH
curl -sS "\$LTB_CONTROL_URL" -o "$TMP/ctl.json" || exit 1
echo '{"type":"client","spans_sent":0}'
SH
	control_record "$TMP/plan.jsonl" client_cmd="\"sh $TMP/client.sh\"" \
		Repeat=0
}

@test "a client hard-coding 127.0.0.1:8360 is measured by ltb-sample's own satellites" {
	need_free 8360 8361 8362 8363 8364 8365 8366 8367
	hardcoded_client 8360 100
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 0
	assert_success
	run jq -r '[.spans_sent, .spans_received, .dropped, .error] | @tsv' <<<"$(results)"
	assert_output "$(printf '100\t100\t0\t')"
	[[ $stderr != *"warning"* ]] || fail "unexpected warning: $stderr"
}

@test "8360 busy: one warning, free ports, and a hard-coding client fails loudly" {
	need_free 8360
	hold_port 8360
	hardcoded_client 8360 100
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 0
	assert_failure 1
	# one warning, naming the port, the reason, and what to do
	[ "$(grep -c 'warning' <<<"$stderr")" -eq 1 ] || fail "not one warning: $stderr"
	local warning res
	res=$(results)
	warning=$(grep warning <<<"$stderr")
	[[ $warning == *"cannot bind 127.0.0.1:8360: Address already in use"* ]] || fail "$warning"
	[[ $warning == *"hard-codes 127.0.0.1:8360"*"will not reach them"* ]] || fail "$warning"
	[[ $warning == *"free ports 8360-8367, or choose with --satellite-ports"* ]] || fail "$warning"
	run jq -r '[.spans_sent, .spans_received, .dropped] | @tsv' <<<"$res"
	assert_output "$(printf '100\t0\t100')"
	run jq -r .error <<<"$res"
	assert_output --regexp "no connection reached the satellites at 127\.0\.0\.1:[0-9]+(,[0-9]+){7}"
	refute_output --partial ":8360,"
	# a client that reads SatellitePorts still works on the free ports
	control_record "$TMP/plan.jsonl" client=\"c\" Trace=true
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 0
	assert_success
	run jq -r '[.spans_sent, .spans_received, .dropped] | @tsv' <<<"$(results)"
	assert_output "$(printf '100\t100\t0')"
}

@test "--satellite-ports 9360-9361 and 0 choose the HTTP ports" {
	need_free 9360 9361
	keep_client
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 0 \
		--satellite-ports 9360-9361
	assert_success
	run jq -c .SatellitePorts "$TMP/ctl.json"
	assert_output '[9360,9361]'
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 0 \
		--satellite-ports 0
	assert_success
	run jq -r '.SatellitePorts | length, (.[0] != 8360)' "$TMP/ctl.json"
	assert_output "$(printf '1\ntrue')"
	# and the client reaching one of them is measured there
	hardcoded_client 9361 50
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 0 \
		--satellite-ports 9360,9361
	assert_success
	run jq -r '[.spans_sent, .spans_received, .dropped] | @tsv' <<<"$(results)"
	assert_output "$(printf '50\t50\t0')"
}

@test "--satellite-ports on a busy port is exit 3 naming it; with --satellites exit 2" {
	need_free 9362
	hold_port 9362
	keep_client
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 0 \
		--satellite-ports 9363,9362
	assert_failure 3
	assert_equal "$(grep -c 'ltb-sample: ' <<<"$stderr")" 1
	[[ $stderr == *"127.0.0.1:9362"*"Address already in use"* ]] || fail "$stderr"
	[[ $stderr != *"warning"* ]] || fail "fell back: $stderr"
	[ ! -e "$TMP/ctl.json" ]
	run jq -r 'select(.type == "plan_end") | [.complete, .runs] | @tsv' <<<"$output"
	assert_output "$(printf 'false\t0')"
	start_satellite
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 0 \
		--satellites "$SAT_ADMIN" --satellite-ports 9363
	assert_failure 2
	[[ $stderr == *"--satellite-ports"*"--satellites"* ]] || fail "$stderr"
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 0 \
		--satellite-ports 9363-x
	assert_failure 2
	[[ $stderr == *"bad --satellite-ports '9363-x'"* ]] || fail "$stderr"
}

@test "--control-port 8023 serves an early client fetching http://localhost:8023/control" {
	need_free 8023
	cat >"$TMP/client.sh" <<SH
curl -sS http://localhost:8023/control -o "$TMP/ctl.json" || exit 1
echo '{"type":"client","spans_sent":0}'
SH
	control_record "$TMP/plan.jsonl" client_cmd="\"sh $TMP/client.sh\"" Repeat=0
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 8023 \
		--satellite-ports 0,0
	assert_success
	run jq -r '[.Repeat, (.SatellitePorts | length)] | @tsv' "$TMP/ctl.json"
	assert_output "$(printf '0\t2')"
	# localhost may be ::1 first: node 17-19 (or without its
	# autoSelectFamily) asks ::1 only, so 8023 is served there too
	if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
		rm -f "$TMP/ctl.json"
		sed -i 's|localhost:8023|[::1]:8023|' "$TMP/client.sh"
		run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 8023 \
			--satellite-ports 0
		assert_success
		run jq -r '.SatellitePorts | length' "$TMP/ctl.json"
		assert_output 1
	fi
	# node, as the early JavaScript client fetched it
	command -v node >/dev/null || skip "no node here"
	cat >"$TMP/client.sh" <<SH
node -e '
require("http").get("http://localhost:8023/control", (r) => {
	let b = ""; r.on("data", (c) => b += c);
	r.on("end", () => { require("fs").writeFileSync(process.argv[1], b);
		console.log(JSON.stringify({type: "client", spans_sent: 0})); });
}).on("error", (e) => { console.error(e.message); process.exit(1); });
' "$TMP/node.json"
SH
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 8023 \
		--satellite-ports 0
	assert_success
	run jq -r '.SatellitePorts | length' "$TMP/node.json"
	assert_output 1
}

@test "more spans arriving intact than the client sent fails the run, never a negative drop" {
	# What a second program reporting to the same fixed ports looks like
	# (or a client sending more than Repeat): 100 spans of its own plus
	# 100 the run never sent.
	cat >"$TMP/client.sh" <<SH
curl -sS "\$LTB_CONTROL_URL" -o /dev/null || exit 1
for seed in 1 2; do
	$LTB_BUILD_DIR/tests/tools/mkreport --spans 100 --seed \$seed |
		curl -s --max-time 2 --data-binary @- -o /dev/null \
		http://127.0.0.1:9370/api/v2/reports
done
echo '{"type":"client","spans_sent":100}'
SH
	need_free 9370
	control_record "$TMP/plan.jsonl" client_cmd="\"sh $TMP/client.sh\"" \
		Trace=true Repeat=100
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 0 --satellite-ports 9370
	assert_failure 1
	run jq -r 'select(.type == "result") | "\(.spans_received) \(.dropped) \(.error)"' <<<"$output"
	assert_output --partial "200 null 200 spans arrived intact but the client sent 100: another program reports to the satellites at 127.0.0.1:9370"
}
