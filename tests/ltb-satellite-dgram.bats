#!/usr/bin/env bats
# ltb-satellite's datagram ports: --udp and --unix serving spectatord's
# line protocol, loss at the socket, down and up. A real satellite on
# loopback, datagrams sent by tests/tools/dgramsend.

load test_helper

LTB_NOT_IN_FRESH_ROOT="the satellite's protocols need nothing a fresh machine lacks; tested on the normal and sanitizer builds"

# start_dgram: a satellite with one UDP port and a unix socket at
# $TMP/s.sock. Sets UDP_PORT and SOCK besides start_satellite's.
start_dgram() {
	SOCK=$TMP/s.sock
	start_satellite --ports 0 --udp 0 --unix "$SOCK"
	UDP_PORT=$(jq -r '.udp_ports[0]' <<<"$SAT_READY")
}

# udp_proc_drops PORT: the drops column of /proc/net/udp for the socket on
# 127.0.0.1:PORT.
udp_proc_drops() {
	awk -v p="$(printf '0100007F:%04X' "$1")" '$2 == p { print $NF }' \
		/proc/net/udp
}

# stat_is FIELD VALUE, stat_over FIELD VALUE: /stats's FIELD is VALUE,
# is over it (for wait_for, which runs them again each time).
stat_is() {
	[[ $(sat_stat "$1") == "$2" ]]
}
stat_over() {
	(( $(sat_stat "$1") > $2 ))
}

# received_or_dropped N: spans_received + socket_drops is N.
received_or_dropped() {
	[[ $(sat_stat '.spans_received + .socket_drops') == "$1" ]]
}

# port_stat TRANSPORT FIELD: a field of the first /stats port object of
# that transport.
port_stat() {
	sat_stat "[.ports[] | select(.transport == \"$1\")][0].$2"
}

@test "--help lists --udp and --unix and says what datagram ports count" {
	run ltb-satellite --help
	assert_success
	assert_line --partial "--udp LIST"
	assert_line --partial "--unix PATH"
	assert_line --partial "socket_drops"
	assert_line --partial "spectatord"
}

@test "the ready record lists udp_ports and unix_socket; ports keeps only HTTP" {
	start_satellite --ports 0 --udp 0,0 --unix "$TMP/s.sock"
	run jq -c '[(.ports|length), (.udp_ports|length), .unix_socket]' <<<"$SAT_READY"
	assert_output "[1,2,\"$TMP/s.sock\"]"
	[[ -S $TMP/s.sock ]]
	start_satellite --ports 0
	run jq -c '[.udp_ports, .unix_socket]' <<<"$SAT_READY"
	assert_output '[[],null]'
}

@test "UDP datagrams are counted per meter type and parse errors by reason" {
	start_dgram
	run dgramsend --udp "$UDP_PORT" --count 10 'c:requests,app=x:1' \
		't:latency:0.25' 'g,60:heap:7' 'q:what:1' 'c:nameonly'
	assert_success
	[[ $(jq .sent <<<"$output") == 10 ]]
	wait_for 5 stat_is .spans_received 50
	run sat_stat '.protocols.spectatord | [.by_type.c, .by_type.t, .by_type.g, .parse_errors.unknown_type, .parse_errors.missing_value, .invalid, .messages] | @tsv'
	assert_output "$(printf '10\t10\t10\t10\t10\t20\t10')"
	assert_equal "$(port_stat udp requests)" 10
	assert_equal "$(port_stat udp socket_drops)" 0
	assert_equal "$(sat_stat .requests)" 10
}

@test "a unix datagram socket serves the same protocol" {
	start_dgram
	run dgramsend --unix "$SOCK" --count 7 --newline 'd:size:100' 'X,1700000000000:sampled:3'
	assert_success
	wait_for 5 stat_is .spans_received 14
	run sat_stat '.protocols.spectatord | [.by_type.d, .by_type.X, .invalid] | @tsv'
	assert_output "$(printf '7\t7\t0')"
	assert_equal "$(port_stat unix_dgram requests)" 7
	assert_equal "$(port_stat unix_dgram path)" "$SOCK"
}

@test "every datagram counts as a request, even an empty one" {
	start_dgram
	run dgramsend --udp "$UDP_PORT" --count 3
	assert_success
	wait_for 5 stat_is .requests 3
	assert_equal "$(sat_stat .spans_received)" 0
}

@test "a burst sent while the satellite is stopped shows as socket_drops" {
	start_dgram
	rcvbuf=$(port_stat udp rcvbuf_bytes)
	(( rcvbuf > 0 ))
	kill -STOP "$SAT_PID"
	# Far more than the receive buffer holds: a datagram takes some
	# hundreds of bytes of it, however small.
	run dgramsend --udp "$UDP_PORT" --count 60000 'c:burst:1'
	kill -CONT "$SAT_PID"
	assert_success
	sent=$(jq .sent <<<"$output")
	[[ $sent == 60000 ]]
	proc=$(udp_proc_drops "$UDP_PORT")
	(( proc > 0 ))
	# Everything sent is either received or dropped at the socket.
	wait_for 10 received_or_dropped "$sent"
	assert_equal "$(sat_stat .socket_drops)" "$proc"
	assert_equal "$(port_stat udp socket_drops)" "$proc"
	(( $(sat_stat .spans_received) > 0 ))
}

@test "/reset zeroes socket_drops; the next burst counts from there" {
	start_dgram
	kill -STOP "$SAT_PID"
	dgramsend --udp "$UDP_PORT" --count 60000 'c:burst:1' >/dev/null
	kill -CONT "$SAT_PID"
	wait_for 10 stat_over .socket_drops 0
	curl -sS -X POST "$SAT_ADMIN/reset" >/dev/null
	assert_equal "$(sat_stat .socket_drops)" 0
	first=$(udp_proc_drops "$UDP_PORT")
	kill -STOP "$SAT_PID"
	dgramsend --udp "$UDP_PORT" --count 60000 'c:burst:1' >/dev/null
	kill -CONT "$SAT_PID"
	second=$(udp_proc_drops "$UDP_PORT")
	wait_for 10 stat_is .socket_drops "$((second - first))"
}

@test "/down refuses a connected UDP sender (ECONNREFUSED) and removes the socket; /up serves again" {
	start_dgram
	run curl -sS -X POST "$SAT_ADMIN/down"
	assert_success
	[[ ! -e $SOCK ]]
	# The first send goes out; the port unreachable it meets comes back
	# as ECONNREFUSED on the next ones.
	run dgramsend --udp "$UDP_PORT" --connect --count 5 --rate 20 'c:down:1'
	assert_success
	(( $(jq .econnrefused <<<"$output") > 0 ))
	run dgramsend --unix "$SOCK" --count 1 'c:down:1'
	assert_equal "$(jq .enoent <<<"$output")" 1
	run curl -sS -X POST "$SAT_ADMIN/up"
	assert_success
	[[ -S $SOCK ]]
	assert_equal "$(jq -r '.udp_ports[0]' <<<"$SAT_READY")" "$UDP_PORT"
	run dgramsend --udp "$UDP_PORT" --connect --count 5 --rate 20 'c:up:1'
	assert_equal "$(jq .errors <<<"$output")" 0
	dgramsend --unix "$SOCK" --count 2 'c:up:1' >/dev/null
	wait_for 5 stat_is .spans_received 7
	assert_equal "$(port_stat udp port)" "$UDP_PORT"
}

@test "SIGTERM removes the unix socket and the stats record counts the datagrams" {
	start_dgram
	dgramsend --unix "$SOCK" --count 4 'c:last:1' >/dev/null
	dgramsend --udp "$UDP_PORT" --count 3 'c:last:1' >/dev/null
	wait_for 5 stat_is .spans_received 7
	kill -TERM "$SAT_PID"
	wait_gone "$SAT_PID" 5
	[[ ! -e $SOCK ]]
	run jq -c 'select(.type == "stats") | [.spans_received, .socket_drops]' "$SAT_OUT"
	assert_output '[7,0]'
}

@test "SIGINT removes the unix socket too" {
	start_dgram
	kill -INT "$SAT_PID"
	wait_gone "$SAT_PID" 5
	[[ ! -e $SOCK ]]
}

@test "a stale socket left by a killed satellite is replaced" {
	start_dgram
	kill -KILL "$SAT_PID"
	wait_gone "$SAT_PID" 5
	[[ -S $SOCK ]]
	start_satellite --ports 0 --unix "$SOCK"
	dgramsend --unix "$SOCK" --count 2 'c:again:1' >/dev/null
	wait_for 5 stat_is .spans_received 2
}

@test "a unix socket another satellite reads is refused with exit 3" {
	start_dgram
	run ltb-satellite --ports 0 --admin-port 0 --unix "$SOCK"
	assert_failure 3
	assert_output --partial "cannot bind unix socket $SOCK: in use"
	[[ -S $SOCK ]]
	dgramsend --unix "$SOCK" --count 1 'c:still:1' >/dev/null
	wait_for 5 stat_is .spans_received 1
}

@test "a --unix path longer than a socket's, or a file not a socket, is a usage error" {
	long=$TMP/$(printf 'x%.0s' {1..120})
	run ltb-satellite --ports 0 --admin-port 0 --unix "$long"
	assert_failure 2
	assert_line --partial "ltb-satellite: bad --unix '$long': longer than a unix socket's path may be"
	echo data >"$TMP/file"
	run ltb-satellite --ports 0 --admin-port 0 --unix "$TMP/file"
	assert_failure 2
	assert_line --partial "ltb-satellite: bad --unix '$TMP/file': a file that is not a socket is there"
	assert_equal "$(cat "$TMP/file")" data
}

@test "a bad --udp list is a usage error that names it" {
	run ltb-satellite --ports 0 --udp 70000
	assert_failure 2
	assert_line --partial "ltb-satellite: bad --udp '70000'"
}
