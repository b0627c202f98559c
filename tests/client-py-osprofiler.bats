#!/usr/bin/env bats
# client-py-osprofiler: the py-osprofiler client (clients/py-osprofiler, the
# real OSProfiler of Debian's python3-osprofiler and its redis driver on
# python3-redis, run by Debian's /usr/bin/python3) against a real Debian
# redis-server it sends its trace points to, its control message served
# from a file through LTB_CONTROL_URL=file://...; then under ltb-sample,
# against ltb-satellite's RESP port. Skipped, with the reason, where
# /usr/bin/python3 cannot import osprofiler's redis driver or redis-server
# is missing.
#
# This file runs in the fresh root: it checks that docker/deps.sh brought
# the Debian packages the client needs. Its tests of the client alone skip
# under the sanitizers (python_only): they run no binary of ours.

load test_helper

LTB_NOT_UNDER_SANITIZER="its client is a third-party python library, which no sanitizer instruments; the ltb-sample, satellite and protocol code it drives runs under the sanitizers in ltb-sample*.bats, ltb-satellite*.bats and the fuzz targets"

CLIENT_DIR=$LTB_ROOT/clients/py-osprofiler
PY=/usr/bin/python3

setup_file() {
	[[ -z $(why_not_here) ]] || return 0
	# bats 1.8 cannot skip from setup_file: each test skips in setup.
	if [[ ! -x $PY ]]; then
		export PYOSP_SKIP="no $PY: the py-osprofiler client runs on Debian's python3"
	elif ! "$CLIENT_DIR/setup" 2>/dev/null; then
		export PYOSP_SKIP="$PY cannot import osprofiler's redis driver: install python3-osprofiler and python3-redis (docker/deps.sh)"
	fi
}

setup() {
	ltb_setup
	skip_if_not_here
	[[ -z ${PYOSP_SKIP:-} ]] || skip "$PYOSP_SKIP"
}

# python_only: this test runs the Python client alone, no binary of ours:
# the sanitizer build adds nothing to it.
python_only() {
	[[ -z ${LTB_SANITIZED:-} ]] ||
		skip "built with -fsanitize=$LTB_SANITIZED: the Python client alone, no binary of ours"
}

# free_port: a TCP port nobody listens on (bound, then let go).
free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_redis: a real redis-server on a free loopback port, nothing saved;
# sets REDIS_PORT. Teardown ends it by its PID.
start_redis() {
	command -v redis-server >/dev/null ||
		skip "no redis-server: install redis-server and redis-tools (docker/deps.sh)"
	REDIS_PORT=$(free_port)
	redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
		--appendonly no --daemonize no >"$TMP/redis.log" 2>&1 &
	started $!
	wait_for 10 rcli PING >/dev/null || {
		cat "$TMP/redis.log" >&2
		fail "redis-server did not answer PING"
	}
}

rcli() {
	redis-cli -p "$REDIS_PORT" "$@"
}

redis_holds_some() {
	(($(rcli DBSIZE) > 0))
}

# control [JQ ASSIGNMENTS]: write $TMP/control.json, a traced run of 14
# trace points (two chains of six, one of two) with 3 info entries each,
# aimed at the redis started last, changed by the jq expression; point
# LTB_CONTROL_URL at it.
control() {
	jq -n --argjson port "${REDIS_PORT:-6379}" '{
		Trace: true, Sleep: 1000000, SleepInterval: 5000000, Work: 1000,
		Repeat: 14, NoFlush: false, NumTags: 3, NumLogs: 15,
		Protocol: "osprofiler", SatelliteHost: "127.0.0.1",
		SatellitePorts: [8360], SatelliteRespPorts: [$port]
	} | '"${1:-.}" >"$TMP/control.json"
	export LTB_CONTROL_URL=file://$TMP/control.json
}

# trace_messages: every message redis holds, one JSON object a line, in
# the order each trace's were sent (LPUSH puts the newest first), with
# its key as .key.
trace_messages() {
	local key
	for key in $(rcli --raw KEYS 'osprofiler_opt:*'); do
		rcli --raw LRANGE "$key" 0 -1 | tac | jq -c --arg key "$key" '. + {key: $key}'
	done
}

@test "--help says how it is run; setup only checks the Debian packages" {
	python_only
	run "$CLIENT_DIR/run" --help
	assert_success
	assert_line --partial "SatelliteRespPorts"
	run --separate-stderr "$CLIENT_DIR/setup"
	assert_success
	assert_equal "$output$stderr" ""
	run cat "$CLIENT_DIR/protocol"
	assert_output osprofiler
}

@test "a python that cannot import OSProfiler is exit 127 naming the Debian packages" {
	python_only
	# -S: no site-packages, so none of Debian's dist-packages either
	printf '#!/bin/sh\nexec %s -S "$@"\n' "$PY" >"$TMP/py"
	chmod +x "$TMP/py"
	control
	LTB_DEBIAN_PYTHON=$TMP/py run -127 --separate-stderr "$CLIENT_DIR/run"
	assert_equal "$output" ""
	[[ $stderr == *"cannot import OSProfiler's redis driver"*"install Debian's python3-osprofiler and python3-redis"* ]] ||
		fail "$stderr"
	LTB_DEBIAN_PYTHON=$TMP/none run -127 --separate-stderr "$CLIENT_DIR/run"
	[[ $stderr == *"$TMP/none not found: install Debian's python3, python3-osprofiler and python3-redis"* ]] ||
		fail "$stderr"
}

@test "every trace point arrives at redis as a start and a stop, six nested per trace, parents right, NumTags entries in each info" {
	python_only
	start_redis
	control
	run --separate-stderr "$CLIENT_DIR/run"
	assert_success
	assert_equal "${#lines[@]}" 1
	run jq -c '[.type, .v, .client, .trace, .unit, .spans_sent, .dropped,
		.points_complete, .messages_sent, .messages_failed, .send_errors]' <<<"$output"
	assert_output '["client",1,"py-osprofiler",true,"trace point",14,0,14,28,0,{}]'
	# a trace (key) per chain: 6, 6 and 2 points, a start and a stop each
	run rcli --raw KEYS 'osprofiler_opt:*'
	assert_equal "${#lines[@]}" 3
	local key n sizes=()
	for key in "${lines[@]}"; do
		n=$(rcli --raw LLEN "$key")
		sizes+=("$n")
	done
	assert_equal "$(printf '%s\n' "${sizes[@]}" | sort -n | tr '\n' ' ')" "4 12 12 "
	trace_messages >"$TMP/msgs.jsonl"
	# Per trace: the key is its base_id; each point's start and stop share
	# a trace_id; the first point's parent is the base_id, each other's the
	# point started before it; names in the chain's order; the start's
	# info has NumTags entries and the host the library adds.
	run jq -rs '
		group_by(.key) | map(
			(.[0].base_id) as $base |
			(map(select(.name | endswith("-start")))) as $s |
			(map(select(.name | endswith("-stop")))) as $e |
			{ key_ok: (all(.[]; .key == "osprofiler_opt:" + .base_id and .base_id == $base)),
			  paired: (($s | map(.trace_id) | sort) == ($e | map(.trace_id) | sort)),
			  unique: (($s | map(.trace_id) | unique | length) == ($s | length)),
			  parents: ([range(0; $s | length) as $i |
				$s[$i].parent_id == (if $i == 0 then $base else $s[$i - 1].trace_id end)] | all),
			  names: ($s | map(.name | rtrimstr("-start"))),
			  info: ($s | map(.info | keys | length) | unique),
			  who: (map([.project, .service]) | unique) }
		) | sort_by(.names | length) | map(
			[.key_ok, .paired, .unique, .parents, (.names | join(",")), (.info | tostring),
			 (.who | tostring)] | @tsv) | .[]' "$TMP/msgs.jsonl"
	assert_success
	local chain='client/request,server/handle,auth/verify,cache/lookup,db/query,db/read'
	assert_line --index 0 "$(printf 'true\ttrue\ttrue\ttrue\tclient/request,server/handle\t[4]\t[["ltb","py-osprofiler"]]')"
	assert_line --index 1 "$(printf 'true\ttrue\ttrue\ttrue\t%s\t[4]\t[["ltb","py-osprofiler"]]' "$chain")"
	assert_line --index 2 "$(printf 'true\ttrue\ttrue\ttrue\t%s\t[4]\t[["ltb","py-osprofiler"]]' "$chain")"
	# the info entries: the C clients' first tags, then numbered ones
	run jq -rs 'map(select(.name == "client/request-start"))[0].info | keys_unsorted | join(",")' "$TMP/msgs.jsonl"
	assert_output "http.url,http.method,http.status_code,host"
	# stops are nested: a chain's innermost point stops first
	run jq -rs 'group_by(.key) | map(select(length == 12)) | .[0] |
		map(select(.name | endswith("-stop"))) | map(.name) | .[0], .[-1]' "$TMP/msgs.jsonl"
	assert_line --index 0 "db/read-stop"
	assert_line --index 1 "client/request-stop"
}

@test "NumTags past the ten named ones numbers the rest; NumTags 0 leaves the library's host alone" {
	python_only
	start_redis
	control '.Repeat = 1 | .NumTags = 12'
	run --separate-stderr "$CLIENT_DIR/run"
	assert_success
	run bash -c "redis-cli -p $REDIS_PORT --raw LRANGE \"\$(redis-cli -p $REDIS_PORT --raw KEYS 'osprofiler_opt:*')\" 0 -1 |
		jq -r 'select(.name == \"client/request-start\") | .info | [(keys | length), .[\"tag.10\"], .[\"tag.11\"]] | @tsv'"
	assert_output "$(printf '13\tvalue.10\tvalue.11')"
	rcli FLUSHALL >/dev/null
	control '.Repeat = 1 | .NumTags = 0'
	run --separate-stderr "$CLIENT_DIR/run"
	assert_success
	run bash -c "redis-cli -p $REDIS_PORT --raw LRANGE \"\$(redis-cli -p $REDIS_PORT --raw KEYS 'osprofiler_opt:*')\" 0 -1 |
		jq -c 'select(.name == \"client/request-start\") | .info | keys'"
	assert_output '["host"]'
}

@test "Trace false: the profiler is not initialised, nothing is sent, the same points are made" {
	python_only
	start_redis
	control '.Trace = false'
	run --separate-stderr "$CLIENT_DIR/run"
	assert_success
	run jq -c '[.trace, .spans_sent, .dropped, .messages_sent, .tracer]' <<<"$output"
	assert_output '[false,14,0,0,"noop"]'
	run rcli DBSIZE
	assert_output 0
	# not even a connection: redis counted only redis-cli's own
	local before after
	before=$(rcli INFO stats | tr -d '\r' | sed -n 's/^total_connections_received://p')
	"$CLIENT_DIR/run" >/dev/null
	after=$(rcli INFO stats | tr -d '\r' | sed -n 's/^total_connections_received://p')
	assert_equal "$after" "$((before + 1))"
}

@test "a refused connection: every point counted as dropped, the loop goes on, exit 0 with the summary" {
	python_only
	control ".SatelliteRespPorts = [$(free_port)] | .Repeat = 8"
	run --separate-stderr "$CLIENT_DIR/run"
	assert_success
	assert_equal "${#lines[@]}" 1
	run jq -c '[.spans_sent, .dropped, .points_complete, .messages_sent, .messages_failed, .send_errors]' <<<"$output"
	assert_output '[8,8,0,0,16,{"ConnectionError":16}]'
	[[ $stderr == *"py-osprofiler: 16 of 16 messages failed, the last: ConnectionError: "*"Connection refused"* ]] ||
		fail "$stderr"
}

@test "redis gone mid-run: the points sent before count, the rest are dropped, sent = complete + dropped" {
	python_only
	start_redis
	# 60 points over about 1.2 s; redis stopped once some have arrived
	control '.Repeat = 60 | .Sleep = 20000000 | .SleepInterval = 20000000'
	"$CLIENT_DIR/run" >"$TMP/out" 2>"$TMP/err" &
	local client=$!
	started "$client"
	wait_for 10 redis_holds_some || fail "nothing arrived"
	sleep 0.2
	rcli SHUTDOWN NOSAVE >/dev/null 2>&1 || true
	wait "$client"
	run jq -r '[.spans_sent, .points_complete + .dropped, (.dropped > 0), (.points_complete > 0)] | @tsv' "$TMP/out"
	assert_output "$(printf '60\t60\ttrue\ttrue')"
}

@test "a message the client cannot use is exit 2 saying why" {
	python_only
	control '.Protocol = "lightstep"'
	run --separate-stderr "$CLIENT_DIR/run"
	assert_failure 2
	assert_equal "$output" ""
	[[ $stderr == *"Protocol lightstep: this client speaks osprofiler (its redis driver) only"* ]] || fail "$stderr"
	control '.SatelliteRespPorts = []'
	run --separate-stderr "$CLIENT_DIR/run"
	assert_failure 2
	[[ $stderr == *"SatelliteRespPorts is empty"* ]] || fail "$stderr"
	control '.SatelliteRespPorts = [0]'
	run --separate-stderr "$CLIENT_DIR/run"
	assert_failure 2
	[[ $stderr == *"SatelliteRespPorts: not a list of up to 64 ports"* ]] || fail "$stderr"
	control '.Tls = true'
	run --separate-stderr "$CLIENT_DIR/run"
	assert_failure 2
	LTB_CONTROL_URL=file://$TMP/none.json run --separate-stderr "$CLIENT_DIR/run"
	assert_failure 2
	[[ $stderr == "py-osprofiler: cannot fetch control message from file://$TMP/none.json: "* ]] || fail "$stderr"
}

# --- under ltb-sample, against real satellites --------------------------------

# The satellites serve RESP (--resp) and count OSProfiler's trace points.
need_resp() {
	ltb-satellite --help 2>&1 | grep -q -- '--resp' ||
		skip "ltb-satellite has no --resp yet"
	start_satellite --resp 0 || skip "ltb-satellite --resp does not start"
	jq -e '.protocols | map(.name) | index("osprofiler")' <<<"$SAT_READY" >/dev/null ||
		skip "ltb-satellite has no osprofiler protocol yet"
	kill "$SAT_PID"
	wait_gone "$SAT_PID" 5
}

# plan SPS RUNTIME: a traced and a NoOp control record for py-osprofiler at
# SPS trace points/s for RUNTIME s (Sleep pays for the rate: no Work, so no
# calibration is needed).
plan() {
	jq -nc --argjson sps "$1" --argjson rt "$2" '{type:"control",
		v:1, client:"py-osprofiler", target_sps:$sps, runtime:$rt, trial:0,
		Repeat:($sps * $rt), Sleep:(1e9 / $sps | floor),
		SleepInterval:10000000, Work:0, Protocol:"osprofiler", NumTags:4}
		| (.Trace = true), (.Trace = false)' >"$TMP/plan.jsonl"
}

# result FIELDS: the results' fields, tab-separated, a line each.
result() {
	jq -r "select(.type == \"result\") | [$1] | @tsv" "$TMP/results.jsonl"
}

@test "under ltb-sample, satellites without a RESP port: a warning says so, and the traced client fails saying it has nowhere to send" {
	start_satellite
	plan 300 1
	jq -c 'select(.Trace)' "$TMP/plan.jsonl" >"$TMP/traced.jsonl"
	run --separate-stderr ltb-sample --plan "$TMP/traced.jsonl" --control-port 0 \
		--satellites "$SAT_ADMIN"
	assert_failure 1
	[[ $stderr == *"ltb-sample: warning: the satellites at $SAT_ADMIN serve no RESP port"*"OSProfiler clients get SatelliteRespPorts []"* ]] ||
		fail "$stderr"
	[[ $stderr == *"py-osprofiler: cannot fetch control message from http://"*"SatelliteRespPorts is empty"* ]] ||
		fail "$stderr"
	run jq -r 'select(.type == "result") | .error' <<<"$output"
	assert_output "the client exited with status 2"
}

@test "under ltb-sample, traced and NoOp at 300 trace points/s: every point sent is received, none dropped" {
	need_resp
	plan 300 1
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 0
	printf '%s\n' "$output" >"$TMP/results.jsonl"
	assert_success
	local said=$stderr
	run result '.trace, .unit, .spans_sent, .spans_received, .dropped, .tracer_dropped, .fingerprint.tracer'
	assert_line --index 0 "$(printf 'true\ttrace point\t300\t300\t0\t0\tosprofiler 3.4.3 redis-py 4.3.4')"
	assert_line --index 1 "$(printf 'false\ttrace point\t300\t\t\t0\tnoop')"
	# the progress says the unit in words
	[[ $said == *"py-osprofiler traced 300 sps 1 s trial 0: cpu "*", 300/300 trace points, 0 dropped"* ]] ||
		fail "$said"
}

@test "under ltb-sample, a running group's RESP port is read from its /stats and told to the client" {
	need_resp
	start_satellite --resp 0
	plan 300 1
	jq -c 'select(.Trace)' "$TMP/plan.jsonl" >"$TMP/traced.jsonl"
	run --separate-stderr ltb-sample --plan "$TMP/traced.jsonl" --control-port 0 \
		--satellites "$SAT_ADMIN"
	printf '%s\n' "$output" >"$TMP/results.jsonl"
	assert_success
	[[ $stderr != *"serve no RESP port"* ]] || fail "$stderr"
	run result '.unit, .spans_sent, .spans_received, .dropped'
	assert_output "$(printf 'trace point\t300\t300\t0')"
}

@test "under ltb-sample with the satellites down for part of the run: the refusals are the client's dropped, every point accounted for" {
	need_resp
	plan 300 2
	jq -c 'select(.Trace)' "$TMP/plan.jsonl" >"$TMP/traced.jsonl"
	mv "$TMP/traced.jsonl" "$TMP/plan.jsonl"
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 0 \
		--satellite-down-at 0.5 --satellite-up-at 1.2
	printf '%s\n' "$output" >"$TMP/results.jsonl"
	assert_success
	run result '.spans_sent, .spans_received + .dropped, (.tracer_dropped > 0), (.spans_received > 0)'
	assert_output "$(printf '600\t600\ttrue\ttrue')"
}
