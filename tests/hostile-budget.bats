#!/usr/bin/env bats
# hostile-budget.bats: ltb-satellite --memory-budget against peers that
# declare huge bodies and send half of them, held open: one budget for the
# whole group bounds what they can make it hold (issue 10, "Memory
# multiplies").

load test_helper

# Hostile peers need nothing a fresh machine lacks (python3 and curl are in
# every stage): they run on the normal and the sanitizer build.
LTB_NOT_IN_FRESH_ROOT="hostile peers are tested on the normal and sanitizer builds"

# hold_bodies OUT PORTS N FIELD SEND SECONDS: N connections spread over
# PORTS (comma list) each POST a LightStep report whose one span has an
# operation_name FIELD bytes long, send SEND bytes of its body, then hold
# the connection open, reading what comes back, for at most SECONDS in
# all. One line per connection in OUT: its port, bytes sent, the status
# answered ("none" if none) and the Retry-After header ("-" if none).
# Bounded: every socket is closed at the deadline.
hold_bodies() {
	cat >"$TMP/hold.py" <<'EOF'
import select, socket, sys, time

out, ports, n, field, send, secs = sys.argv[1:7]
ports = [int(p) for p in ports.split(",")]
n, field, send, secs = int(n), int(field), int(send), float(secs)

def varint(v):
    b = bytearray()
    while True:
        if v < 0x80:
            b.append(v)
            return bytes(b)
        b.append(v & 0x7f | 0x80)
        v >>= 7

def report_head(i):
    # Span { span_context { trace_id, span_id }, operation_name: FIELD bytes }
    ctx = b"\x08" + varint(1000 + i) + b"\x10" + varint(2000 + i)
    span_len = 1 + len(varint(len(ctx))) + len(ctx) + 1 + len(varint(field)) + field
    head = b"\x1a" + varint(span_len) + b"\x0a" + varint(len(ctx)) + ctx
    head += b"\x12" + varint(field)
    return head, len(head) + field

chunk = b"x" * 65536
conns = []
for i in range(n):
    port = ports[i % len(ports)]
    head, total = report_head(i)
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setblocking(False)
    req = ("POST /api/v2/reports HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
           "Content-Type: application/octet-stream\r\n"
           "Content-Length: %d\r\n\r\n" % (port, total)).encode() + head
    conns.append({"s": s, "port": port, "pre": req, "left": send,
                  "sent": 0, "got": b"", "open": True})

end = time.monotonic() + secs
while time.monotonic() < end and any(c["open"] for c in conns):
    rd = [c["s"] for c in conns if c["open"]]
    wr = [c["s"] for c in conns if c["open"] and (c["pre"] or c["left"])]
    r, w, _ = select.select(rd, wr, [], 0.2)
    for c in conns:
        s = c["s"]
        if not c["open"]:
            continue
        try:
            if s in r:
                b = s.recv(65536)
                if not b:
                    c["open"] = False
                c["got"] += b
            if s in w and c["open"]:
                if c["pre"]:
                    k = s.send(c["pre"])
                    c["pre"] = c["pre"][k:]
                else:
                    k = s.send(chunk[:min(len(chunk), c["left"])])
                    c["left"] -= k
                    c["sent"] += k
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            c["open"] = False

with open(out, "w") as f:
    for c in conns:
        c["s"].close()
        lines = c["got"].split(b"\r\n")
        status = lines[0].split()[1].decode() if c["got"].startswith(b"HTTP/") else "none"
        retry = "-"
        for l in lines[1:]:
            if l.lower().startswith(b"retry-after:"):
                retry = l.split(b":", 1)[1].strip().decode()
        f.write("%d %d %s %s\n" % (c["port"], c["sent"], status, retry))
EOF
	timeout 60 python3 "$TMP/hold.py" "$@"
}

# big_report FILE FIELD: a LightStep report of one span whose
# operation_name is FIELD bytes long.
big_report() {
	python3 - "$1" "$2" <<'EOF'
import sys
def varint(v):
    b = bytearray()
    while v >= 0x80:
        b.append(v & 0x7f | 0x80)
        v >>= 7
    b.append(v)
    return bytes(b)
field = int(sys.argv[2])
ctx = b"\x08\x07\x10\x09"
span = b"\x0a" + varint(len(ctx)) + ctx + b"\x12" + varint(field) + b"y" * field
open(sys.argv[1], "wb").write(b"\x1a" + varint(len(span)) + span)
EOF
}

# The peers of the issue: 16 connections each declaring a 60 MB report
# and sending 30 MB of its one span, held open for at most SECONDS (20).
hold_16_by_30mb() {
	hold_bodies "$TMP/held" "${SAT_PORTS[0]},${SAT_PORTS[1]}" 16 \
		60000000 30000000 "${1:-20}"
}

# After the peers: a normal report answers 200 and is counted.
normal_report_gets_through() {
	local before
	report=$(mkreport_file r.bin --spans 100)
	before=$(sat_stat .spans_received)
	run post_report "$report"
	assert_output 200
	run sat_stat .spans_received
	assert_output $((before + 100))
}

# The satellite's peak RSS is under 300 MiB: the budget (256 MiB) and a
# fixed overhead. The bound is glibc's: a sanitizer's allocator ignores
# mallopt and keeps freed memory in quarantine, so under one only the
# budget's own figures (checked after) can hold.
peak_rss_under_300mib() {
	local peak
	peak=$(rss_peak "$SAT_PID")
	echo "peak RSS ${peak} KiB" >&2
	if [[ -n ${LTB_SANITIZED:-} ]]; then
		echo "built with -fsanitize=$LTB_SANITIZED: RSS not checked" >&2
		return 0
	fi
	((peak < 300 * 1024))
}

budget_used_is() { [[ $(sat_stat .memory_budget.used) == "$1" ]]; }

@test "16 connections holding 30 MB of 60 MB bodies, twice: peak RSS under 300 MiB, the rest refused" {
	start_satellite --bandwidth 0
	# Twice: what the first wave held and gave back must not stay
	# resident (glibc's dynamic mmap threshold would keep it).
	hold_16_by_30mb 10
	wait_for 10 budget_used_is 0
	hold_16_by_30mb 10
	cat "$TMP/held" >&2
	peak_rss_under_300mib
	# Refused mid-body (libmicrohttpd cannot answer before the body is
	# read): hung up on before they sent all, and counted.
	awk '$2 < 30000000 { n++ } END { exit !(n > 0) }' "$TMP/held"
	run sat_stat .rejected.memory_budget
	(($output > 0))
	# The budget was used, never past its limit, and is all given back.
	run sat_stat '[.memory_budget.limit, .memory_budget.peak <= .memory_budget.limit, .memory_budget.peak > 0] | @tsv'
	assert_output "$(printf '268435456\ttrue\ttrue')"
	wait_for 10 budget_used_is 0
	normal_report_gets_through
}

@test "--validate full: whole bodies are held inside the same budget" {
	start_satellite --bandwidth 0 --validate full
	hold_16_by_30mb
	cat "$TMP/held" >&2
	peak_rss_under_300mib
	grep -q ' 503 1$' "$TMP/held"
	run sat_stat '.rejected.memory_budget > 0 and .memory_budget.peak <= .memory_budget.limit'
	assert_output true
	wait_for 10 budget_used_is 0
	normal_report_gets_through
}

@test "--validate full: a report the budget has no room for is answered 503 with Retry-After before its body" {
	start_satellite --bandwidth 0 --validate full --memory-budget 40M
	# One peer holds 20 MB of a 30 MB body, reserved whole, for 6 s.
	hold_bodies "$TMP/held" "$SAT_PORT" 1 30000000 20000000 6 &
	started $!
	holder=$!
	held_some() { (($(sat_stat .memory_budget.used) > 30000000)); }
	wait_for 10 held_some
	big_report "$TMP/big.bin" 12000000
	run post_report "$TMP/big.bin" "$SAT_PORT" -D "$TMP/headers"
	assert_output 503
	run grep -i '^retry-after: 1' "$TMP/headers"
	assert_success
	run cat "$TMP/answer"
	assert_output --partial "over the satellite's memory budget"
	# Refused before its body: none of its 12 MB was read.
	run sat_stat '[.rejected.memory_budget, .bytes < 20001000] | @tsv'
	assert_output "$(printf '1\ttrue')"
	wait "$holder"
	wait_for 10 budget_used_is 0
	# Once the peer is gone, the same report is taken.
	run post_report "$TMP/big.bin" "$SAT_PORT"
	assert_output 200
	normal_report_gets_through
}

@test "--validate full: protobuf-c's unpack of a report is inside the budget too" {
	big_report "$TMP/big.bin" 30000000
	# The body (30 MB, reserved as it begins) fits in 50M; the unpacked
	# copy of its operation_name does not: 503 once read, and retried
	# later in vain, so said with Retry-After all the same.
	start_satellite --bandwidth 0 --validate full --memory-budget 50M
	run post_report "$TMP/big.bin" "$SAT_PORT" -D "$TMP/headers"
	assert_output 503
	run grep -i '^retry-after: 1' "$TMP/headers"
	assert_success
	run sat_stat '[.rejected.memory_budget, .spans_received, .memory_budget.peak <= .memory_budget.limit, .memory_budget.used] | @tsv'
	assert_output "$(printf '1\t0\ttrue\t0')"
	# With room for both, it is taken.
	start_satellite --bandwidth 0 --validate full --memory-budget 70M
	run post_report "$TMP/big.bin" "$SAT_PORT"
	assert_output 200
	run sat_stat '[.spans_received, .memory_budget.peak > 60000000] | @tsv'
	assert_output "$(printf '1\ttrue')"
}

@test "OTLP JSON: cJSON's tree of a body is taken from the budget while it is read" {
	mkotlp --spans 1000 --json >"$TMP/t.json"	# 2.7 MB, ~30 MB of tree
	otlp_json() {
		curl -sS -o "$TMP/answer" -w '%{http_code}' -H 'Content-Type: application/json' \
			--data-binary "@$TMP/t.json" "http://127.0.0.1:$SAT_PORT/v1/traces"
	}
	# A tree the budget could never hold: too large, not "retry".
	start_satellite --bandwidth 0 --memory-budget 20M
	run otlp_json
	assert_output 413
	run cat "$TMP/answer"
	assert_output --partial "memory budget"
	start_satellite --bandwidth 0 --memory-budget 64M
	run otlp_json
	assert_output 200
	run sat_stat '[.spans_received, .memory_budget.peak > 20000000, .memory_budget.used] | @tsv'
	assert_output "$(printf '1000\ttrue\t0')"
	# /reset starts the peak again from what is held now.
	curl -sS -X POST "$SAT_ADMIN/reset" >/dev/null
	run sat_stat .memory_budget.peak
	assert_output 0
}

@test "--memory-budget: a bad size is a usage error" {
	run -2 ltb-satellite --memory-budget 12Q
	assert_output --partial "bad --memory-budget '12Q'"
}

@test "--help names --memory-budget and its default" {
	run -0 ltb-satellite --help
	assert_output --partial "--memory-budget SIZE"
	assert_output --partial "default 256M"
}
