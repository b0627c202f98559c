#!/usr/bin/env bats
# ltb-satellite's RESP ports (--resp): Redis's protocol over TCP as
# redis-cli, redis-py and OSProfiler's redis driver speak it; what is sent
# is kept and read back. A real satellite on loopback; Debian's redis-cli,
# and python3-redis and python3-osprofiler under /usr/bin/python3.

load test_helper

LTB_NOT_IN_FRESH_ROOT="the RESP listener needs nothing a fresh machine lacks; tested on the normal and sanitizer builds"

PY=/usr/bin/python3

# start_resp [ARGS...]: a satellite with one HTTP port and one RESP port;
# sets RESP_PORT besides start_satellite's.
start_resp() {
	start_satellite --ports 0 --resp 0 "$@"
	RESP_PORT=$(jq -r '.resp_ports[0]' <<<"$SAT_READY")
}

# cli ARGS...: redis-cli against the RESP port.
cli() {
	timeout 10 redis-cli -p "$RESP_PORT" "$@"
}

# raw BYTES: BYTES (printf's escapes) in one write on one connection, the
# write side then shut; prints every byte answered until the satellite
# closes (at most 5 s), CR removed.
raw() {
	timeout 10 "$PY" - "$RESP_PORT" "$1" <<'EOF' | tr -d '\r'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
s.shutdown(socket.SHUT_WR)
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
sys.stdout.write(out.decode("latin-1"))
EOF
}

# stat_is FIELD VALUE: /stats's FIELD is VALUE (for wait_for).
stat_is() {
	[[ $(sat_stat "$1") == "$2" ]]
}

# kept FIELD: a field of /stats "kept".
kept() {
	sat_stat ".kept.$1"
}

@test "--help lists --resp, --keep-traces and --keep-bytes" {
	run ltb-satellite --help
	assert_success
	assert_line --partial "--resp LIST"
	assert_line --partial "--keep-traces N"
	assert_line --partial "--keep-bytes SIZE"
	run ltb-satellite --resp 70000
	assert_failure 2
	assert_line --partial "bad --resp '70000'"
}

@test "the ready record lists resp_ports; PING is PONG, an unknown command Redis's error" {
	start_resp
	run jq -c '[(.ports|length), (.resp_ports|length)]' <<<"$SAT_READY"
	assert_output "[1,1]"
	run cli PING
	assert_output "PONG"
	run cli PING hello
	assert_output "hello"
	run cli FOO a b
	assert_output "ERR unknown command 'FOO', with args beginning with: 'a' 'b' "
	run cli LPUSH k
	assert_output "ERR wrong number of arguments for 'lpush' command"
	run cli HELLO 3
	assert_output "NOPROTO unsupported protocol version"
	run cli SELECT 16
	assert_output "ERR DB index is out of range"
	[[ $(sat_stat .requests) -ge 6 ]]
}

@test "a pipelined batch in one write is answered in order" {
	start_resp
	run raw '*1\r\n$4\r\nPING\r\n*3\r\n$5\r\nRPUSH\r\n$1\r\nq\r\n$1\r\na\r\nECHO  two\r\n*2\r\n$4\r\nLLEN\r\n$1\r\nq\r\n*1\r\n$4\r\nNOPE\r\nQUIT\r\n*1\r\n$4\r\nPING\r\n'
	assert_success
	assert_output "+PONG
:1
\$3
two
:1
-ERR unknown command 'NOPE', with args beginning with: 
+OK"
}

@test "lists and strings: LPUSH, LRANGE, LINDEX, LLEN, SCAN, KEYS, EXISTS, DEL, SET, GET, WRONGTYPE" {
	start_resp
	run cli LPUSH trace:1 c b a
	assert_output 3
	run cli RPUSH trace:1 d
	assert_output 4
	run cli LRANGE trace:1 0 -1
	assert_output "a
b
c
d"
	run cli LRANGE trace:1 -2 100
	assert_output "c
d"
	run cli LINDEX trace:1 1
	assert_output b
	run cli LLEN trace:1
	assert_output 4
	cli LPUSH trace:2 x >/dev/null
	cli LPUSH other x >/dev/null
	run cli SET err:1 '{"e": 1}'
	assert_output OK
	run cli GET err:1
	assert_output '{"e": 1}'
	run cli --scan --pattern 'trace:*'
	assert_output "trace:1
trace:2"
	run cli SCAN 0 MATCH 'trace:*' COUNT 100
	assert_output "0
trace:1
trace:2"
	run cli KEYS '*:1'
	assert_output "trace:1
err:1"
	run cli EXISTS trace:1 err:1 nope
	assert_output 2
	run cli LPUSH err:1 x
	assert_output "WRONGTYPE Operation against a key holding the wrong kind of value"
	run cli GET trace:1
	assert_output "WRONGTYPE Operation against a key holding the wrong kind of value"
	run cli DEL trace:1 nope
	assert_output 1
	run cli DBSIZE
	assert_output 3
	run cli INFO keyspace
	assert_line --partial "db0:keys=3"
}

@test "a bulk over --max-body is refused, and the connection still answers" {
	start_resp --max-body 100
	long=$(printf 'x%.0s' {1..150})
	run raw "*3\r\n\$5\r\nLPUSH\r\n\$1\r\nk\r\n\$150\r\n$long\r\n*1\r\n\$4\r\nPING\r\n"
	assert_output "-ERR Protocol error: bulk length 150 over the limit 100
+PONG"
	run cli EXISTS k
	assert_output 0
	[[ $(sat_stat .bad_requests) == 1 ]]
}

@test "framing that cannot be read is answered with an error, then closed" {
	start_resp
	run raw '*1\r\n$4\r\nPING\r\n*1\r\n$x\r\n*1\r\n$4\r\nPING\r\n'
	assert_output "+PONG
-ERR Protocol error: invalid bulk length"
}

@test "--keep-traces 3 evicts the oldest key, counted under kept" {
	start_resp --keep-traces 3
	for i in 1 2 3 4; do
		cli LPUSH "t:$i" v >/dev/null
	done
	run cli KEYS '*'
	assert_output "t:2
t:3
t:4"
	[[ $(kept keys) == 3 ]]
	[[ $(kept evicted_keys) == 1 ]]
	[[ $(kept not_kept) == 0 ]]
	(( $(kept bytes) > 0 ))
	(( $(sat_stat .memory_budget.used) >= $(kept bytes) ))
	curl -sS -X POST "$SAT_ADMIN/reset" >/dev/null
	[[ $(kept evicted_keys) == 0 ]]
	[[ $(kept keys) == 3 ]]
}

@test "an LPUSH to a key no protocol reads is kept and counted in unknown_paths" {
	start_resp
	cli LPUSH nobody:reads v >/dev/null
	[[ $(sat_stat '.unknown_paths["nobody:reads"]') == 1 ]]
	run cli LRANGE nobody:reads 0 -1
	assert_output v
}

@test "an LPUSH to a TCP protocol's prefix is one message of it per value" {
	start_resp
	prefix=$(jq -r '[.protocols[] | select(.transport == "tcp")][0].path // empty' <<<"$SAT_READY")
	name=$(jq -r '[.protocols[] | select(.transport == "tcp")][0].name // empty' <<<"$SAT_READY")
	[[ -n $prefix ]] || skip "no protocol of the table reads RESP yet"
	cli LPUSH "${prefix}x" '{}' >/dev/null || true
	run sat_stat ".protocols.$name | .messages + .rejected_messages"
	assert_output 1
	[[ $(sat_stat ".unknown_path_requests") == 0 ]]
}

@test "a script's 503 is Redis's error naming it, its drop a closed connection" {
	start_resp
	prefix=$(jq -r '[.protocols[] | select(.transport == "tcp")][0].path // empty' <<<"$SAT_READY")
	[[ -n $prefix ]] || skip "no protocol of the table reads RESP yet"
	curl -sS -X POST "$SAT_ADMIN/script" \
		-d '[{"at_s": 0, "for_s": 30, "status": 503, "retry_after": "1"}]' >/dev/null
	run raw "*4\r\n\$5\r\nLPUSH\r\n\$${#prefix}\r\n$prefix\r\n\$2\r\n{}\r\n\$2\r\n{}\r\n*1\r\n\$4\r\nPING\r\n"
	assert_output "-ERR ltb-satellite: 503: satellite script, step 0: 503 Retry-After 1
+PONG"
	run cli EXISTS "$prefix"
	assert_output 0
	curl -sS -X POST "$SAT_ADMIN/script" \
		-d '[{"at_s": 0, "for_s": 30, "drop": true}]' >/dev/null
	run raw "*3\r\n\$5\r\nLPUSH\r\n\$${#prefix}\r\n$prefix\r\n\$2\r\n{}\r\n*1\r\n\$4\r\nPING\r\n"
	assert_output ""
}

@test "a new connection to a full port evicts the idle one, as HTTP's do" {
	start_resp --max-connections 1
	exec 7<>"/dev/tcp/127.0.0.1/$RESP_PORT"	# bats has fd 3
	wait_for 5 stat_is .connections_open 1
	run cli PING
	assert_output PONG
	exec 7<&-
	[[ $(sat_stat .evicted_connections) == 1 ]]
}

@test "a command stalled part way is closed after --body-timeout" {
	start_resp --body-timeout 1
	exec 7<>"/dev/tcp/127.0.0.1/$RESP_PORT"	# bats has fd 3
	printf '*2\r\n$4\r\nECHO\r\n$10\r\nabc' >&7
	wait_for 5 stat_is .body_timeouts 1
	exec 7<&-
	[[ $(sat_stat .idle_timeouts) == 0 ]]
}

@test "down closes the RESP port (connection refused), up serves the same port" {
	start_resp
	cli LPUSH k v >/dev/null
	curl -sS -X POST "$SAT_ADMIN/down" >/dev/null
	run cli PING
	assert_output --partial "Connection refused"
	curl -sS -X POST "$SAT_ADMIN/up" >/dev/null
	run cli PING
	assert_output PONG
	run cli LRANGE k 0 -1
	assert_output v
	[[ $(sat_stat .connections_open) == 0 ]]
}

@test "an idle connection is closed after --idle-timeout" {
	start_resp --idle-timeout 1
	exec 7<>"/dev/tcp/127.0.0.1/$RESP_PORT"	# bats has fd 3
	wait_for 5 stat_is .idle_timeouts 1
	exec 7<&-
	[[ $(sat_stat .connections_open) == 0 ]]
}

@test "redis-py round trip: lpush then lrange" {
	start_resp
	run timeout 20 "$PY" -c '
import redis, sys
r = redis.StrictRedis.from_url("redis://127.0.0.1:%s" % sys.argv[1])
assert r.ping()
r.lpush("osprofiler_opt:x", b"one")
r.lpush("osprofiler_opt:x", b"two")
print(r.lrange("osprofiler_opt:x", 0, -1))
print(r.lindex("osprofiler_opt:x", 1), r.llen("osprofiler_opt:x"))
print(list(r.scan_iter(match="osprofiler_opt:*")))
' "$RESP_PORT"
	assert_success
	assert_line "[b'two', b'one']"
	assert_line "b'one' 2"
	assert_line "[b'osprofiler_opt:x']"
}

@test "OSProfiler's redis driver sends a trace, and osprofiler trace show reads it back" {
	start_resp
	run timeout 30 "$PY" -c '
import sys
from osprofiler import notifier, profiler
n = notifier.create("redis://127.0.0.1:%s" % sys.argv[1], project="p",
    service="s", host="h", conf={})
notifier.set(n)
profiler.init("SECRET_KEY")
base = profiler.get().get_base_id()
with profiler.Trace("outer"):
    with profiler.Trace("inner"):
        pass
print(base)
' "$RESP_PORT"
	assert_success
	base=${lines[-1]}
	run timeout 30 osprofiler trace show "$base" \
		--connection-string "redis://127.0.0.1:$RESP_PORT" --json
	assert_success
	run jq -r '[.children[0].info.name, .children[0].children[0].info.name] | join(" ")' <<<"$output"
	assert_output "outer inner"
}
