#!/usr/bin/env bats
# respblast (tests/bench/respblast.c), the load of make bench's RESP
# intake line, and that line itself: what it sends must be what Debian's
# python3-osprofiler sends with its redis driver, in whole traces whose
# points pair, and it must count what the server answers. A real
# redis-server (Debian's) on loopback is the receiver; the bench line
# needs ltb-satellite --resp too.

load test_helper

LTB_NOT_IN_FRESH_ROOT="a bench load against redis-server: needs nothing a fresh machine lacks; tested on the normal build"
LTB_NOT_UNDER_SANITIZER="it measures the bench's load and lines, which the sanitizers' own cost distorts; the satellite's RESP is tested under them in ltb-satellite-resp.bats"

RESPBLAST=$LTB_BUILD_DIR/tests/bench/respblast

# start_redis [ARGS...]: redis-server on a free loopback port, no
# persistence. Sets REDIS_PID and REDIS_PORT; the server is ours once INFO
# says its process id (another may hold a port we drew).
start_redis() {
	local try p
	command -v redis-server >/dev/null || skip "no redis-server (Debian's redis-server)"
	for try in 1 2 3 4 5; do
		p=$((20000 + RANDOM % 40000))
		redis-server --port "$p" --bind 127.0.0.1 --save '' \
			--appendonly no "$@" >"$TMP/redis.$p.log" 2>&1 &
		REDIS_PID=$!
		started "$REDIS_PID"
		if wait_for 5 redis_is_ours "$p"; then
			REDIS_PORT=$p
			return 0
		fi
		kill "$REDIS_PID" 2>/dev/null || true
	done
	echo "cannot start redis-server" >&2
	return 1
}

redis_is_ours() {
	redis-cli -p "$1" info server 2>/dev/null | grep -q "^process_id:$REDIS_PID"
}

# the messages redis holds, one JSON a line
redis_messages() {
	local k
	redis-cli -p "$REDIS_PORT" --scan --pattern 'osprofiler_opt:*' |
	while read -r k; do
		redis-cli -p "$REDIS_PORT" lrange "$k" 0 -1
	done
}

@test "respblast sends --count messages in whole traces and says so" {
	start_redis
	run "$RESPBLAST" --port "$REDIS_PORT" --count 600 --connections 2 --points 3
	assert_success
	# 300 a connection: 50 traces of 6 messages each
	assert_equal "$(jq -c '[.messages, .points, .traces, .errors]' <<<"$output")" "[600,300,100,0]"
	assert_equal "$(redis-cli -p "$REDIS_PORT" dbsize)" 100
	redis_messages >"$TMP/msgs"
	assert_equal "$(wc -l <"$TMP/msgs")" 600
}

@test "every point respblast sends has its start and stop, its own trace_id, and the trace's base_id in its key" {
	start_redis
	run "$RESPBLAST" --port "$REDIS_PORT" --count 240 --connections 2 --points 4
	assert_success
	redis_messages >"$TMP/msgs"
	# 30 traces, 4 points each, every point once started and once stopped
	run jq -rs '[group_by(.trace_id)[] | [.[].name | sub(".*-"; "")] | sort | join(",")] | unique | join(" ")' "$TMP/msgs"
	assert_output "start,stop"
	assert_equal "$(jq -r .trace_id "$TMP/msgs" | sort -u | wc -l)" 120
	assert_equal "$(jq -r .base_id "$TMP/msgs" | sort -u | wc -l)" 30
	# each list holds its own trace only
	run bash -c "redis-cli -p $REDIS_PORT --scan --pattern 'osprofiler_opt:*' | while read -r k; do redis-cli -p $REDIS_PORT lrange \"\$k\" 0 -1 | jq -r --arg k \"\${k#osprofiler_opt:}\" 'select(.base_id != \$k) | .name'; done"
	assert_output ""
	# a point's parent is the point around it, the outermost's the base
	run jq -rs 'map(select(.name | endswith("-start"))) | (map({(.trace_id): .}) | add) as $by |
		map(select(.parent_id != .base_id and ($by[.parent_id] == null))) | length' "$TMP/msgs"
	assert_output 0
}

@test "respblast's messages have exactly the shape of python3-osprofiler's redis driver" {
	/usr/bin/python3 -c 'import osprofiler, redis' 2>/dev/null ||
		skip "no python3-osprofiler or python3-redis in /usr/bin/python3"
	start_redis
	/usr/bin/python3 - "$REDIS_PORT" <<'EOF'
import sys
from osprofiler import notifier, profiler
notifier.set(notifier.create("redis://127.0.0.1:%s" % sys.argv[1], project="ltb",
                             service="bench", host="h", conf={}))
profiler.clean()
profiler.init("k")
info = {"tag%d" % i: "value%d" % i for i in range(10)}
with profiler.Trace("a", info=info):
    with profiler.Trace("b", info=info):
        pass
EOF
	redis_messages >"$TMP/real"
	redis-cli -p "$REDIS_PORT" flushall
	"$RESPBLAST" --port "$REDIS_PORT" --count 4 --connections 1 --points 2
	redis_messages >"$TMP/ours"
	# the same keys in the same order, the same info keys, start and stop
	shape='[.name | sub(".*-"; "")] + keys_unsorted + (.info | keys_unsorted)'
	assert_equal "$(jq -c "$shape" "$TMP/ours" | sort)" "$(jq -c "$shape" "$TMP/real" | sort)"
	# timestamps in OSProfiler's own format, ids UUIDs
	run jq -r 'select((.timestamp | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}$") | not)
		or ([.base_id, .trace_id, .parent_id][] | test("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$") | not)) | .name' "$TMP/ours"
	assert_output ""
	# about 400 bytes a message, as the issue's typical one
	run jq -rs 'map(tojson | length) | add / length | . > 300 and . < 500' "$TMP/ours"
	assert_output true
}

@test "respblast counts a server's error replies and says the first" {
	start_redis --rename-command LPUSH ''
	run --separate-stderr "$RESPBLAST" --port "$REDIS_PORT" --count 12 --connections 2
	assert_failure 1
	assert_equal "$(jq -c '[.messages, .points, .errors]' <<<"$output")" "[0,0,12]"
	[[ $stderr == *"respblast: an error reply: -ERR unknown command"* ]] ||
		fail "stderr: $stderr"
}

@test "respblast stops at --seconds, after whole traces" {
	start_redis
	SECONDS=0
	run "$RESPBLAST" --port "$REDIS_PORT" --seconds 1 --points 3
	assert_success
	((SECONDS <= 4)) || fail "took $SECONDS s"
	# whole traces: 6 messages, 3 points each
	assert_equal "$(jq '.messages % 6, .messages / 2 - .points' <<<"$output" | tr '\n' ' ')" "0 0 "
	jq -e '.seconds >= 1 and .seconds < 3 and .messages > 0' <<<"$output"
}

# 1024 deep: batches larger than the socket buffers, so a close may find
# it writing as well as reading
@test "respblast whose connections the server closes mid-run says so and exits 1" {
	start_redis
	"$RESPBLAST" --port "$REDIS_PORT" --seconds 5 --pipeline 1024 >"$TMP/out" 2>"$TMP/err" &
	pid=$!
	started "$pid"
	wait_for 5 bash -c "redis-cli -p $REDIS_PORT dbsize | grep -qv '^0$'"
	redis-cli -p "$REDIS_PORT" client kill type normal skipme yes
	rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 1
	run grep -c '^respblast: connection [01]: ' "$TMP/err"
	assert_output 2
	jq -e '.messages > 0 and .errors >= 0' "$TMP/out"
}

@test "respblast with nothing on its port exits 3 and says why" {
	# port 1: privileged, and nothing of ours listens there
	run --separate-stderr "$RESPBLAST" --port 1 --count 10
	assert_failure 3
	[[ $stderr == "respblast: cannot connect to 127.0.0.1:1: "* ]] || fail "stderr: $stderr"
}

@test "respblast --help is usage on stdout; misuse is usage on stderr and exit 2" {
	run "$RESPBLAST" --help
	assert_success
	assert_line --index 0 --partial "usage: respblast --port PORT"
	run --separate-stderr "$RESPBLAST" --port 7 --pipeline 0
	assert_failure 2
	[[ $stderr == "respblast: bad --pipeline"* ]] || fail "stderr: $stderr"
	run --separate-stderr "$RESPBLAST" --count 5
	assert_failure 2
	[[ $stderr == "respblast: --port is needed"* ]] || fail "stderr: $stderr"
}

@test "make bench's RESP lines (BENCH_RESP=only): ltb-satellite and redis-server side by side, every point received" {
	[[ -z ${LTB_SANITIZED:-} ]] || skip "tests/bench/run benches build/, not this sanitizer tree"
	command -v redis-server >/dev/null || skip "no redis-server (Debian's redis-server)"
	cd "$LTB_ROOT"
	# 60000 messages: enough CPU ticks for a ratio (100 a second)
	run --separate-stderr env BENCH_RESP=only BENCH_SECONDS=5 BENCH_RESP_TRIALS=1 \
		BENCH_RESP_COUNT=60000 BENCH_OSP_TRACES=50 tests/bench/run
	echo "$stderr"
	assert_success
	bench_out=$output
	# every line JSON, the servers' lines ok, the ltb points all received
	jq -e . <<<"$bench_out" >/dev/null
	run jq -rs 'map(select(.bench == "resp_intake")) | map("\(.server) \(.ok) \(.points_match) \(.messages)") | join(";")' <<<"$bench_out"
	assert_output "ltb-satellite true true 60000;redis-server true null 60000"
	line=$(jq -c 'select(.bench == "resp_intake_vs_redis")' <<<"$bench_out")
	jq -e '.ltb_points_match == true and (.throughput_ratio | type) == "number" and (.cpu_ratio | type) == "number"' <<<"$line"
}

@test "make bench's py_osprofiler_cost line: no-op, ltb-satellite and redis-server, the sends' share" {
	[[ -z ${LTB_SANITIZED:-} ]] || skip "tests/bench/run benches build/, not this sanitizer tree"
	/usr/bin/python3 -c 'import osprofiler, redis' 2>/dev/null ||
		skip "no python3-osprofiler or python3-redis in /usr/bin/python3"
	cd "$LTB_ROOT"
	run --separate-stderr env BENCH_RESP=only BENCH_SECONDS=1 BENCH_RESP_TRIALS=1 \
		BENCH_RESP_COUNT=600 BENCH_OSP_TRACES=50 tests/bench/run
	assert_success
	line=$(jq -c 'select(.bench == "py_osprofiler_cost")' <<<"$output")
	jq -e '.ltb_points_match == true and ([.cpu_us_per_point_noop, .cpu_us_per_point_ltb, .cpu_us_per_point_redis,
		.send_share_ltb, .ltb_vs_redis][] | type == "number") and .cpu_us_per_point_noop < .cpu_us_per_point_redis' <<<"$line"
}
