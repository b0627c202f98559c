#!/usr/bin/env bats
# The satellite's admin API against what a hostile peer would try: a web
# page in a browser on the same machine (cross-origin requests, DNS
# rebinding), other machines when -b names every interface, and requests
# without the token when one is set. Real ltb-satellite processes, spoken
# to with curl and ltb-sample.

load test_helper

# Hostile peers need nothing a fresh machine lacks (python3 and curl are in
# every stage): they run on the normal and the sanitizer build.
LTB_NOT_IN_FRESH_ROOT="hostile peers are tested on the normal and sanitizer builds"

# admin_status METHOD PATH [CURL ARGS...]: the admin port's HTTP status for
# one request; the body goes to $TMP/admin.body.
admin_status() {
	local method=$1 path=$2
	shift 2
	curl -sS -o "$TMP/admin.body" -w '%{http_code}' -X "$method" "$@" \
		"$SAT_ADMIN$path"
}

# one_report: 100 spans to the first port, answered 200.
one_report() {
	local body
	body=$(mkreport_file r.bin --spans 100)
	run post_report "$body"
	assert_output 200
}

# sample_traced [ARGS...]: ltb-sample, one traced run of the C client (100
# spans in 1 s, no calibration) against the satellites at $SAT_ADMIN.
sample_traced() {
	control_record "$TMP/plan.jsonl" Trace=true
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" \
		--satellites "$SAT_ADMIN" --control-port 0 "$@"
}

# global_ipv4: an IPv4 address of this machine that is not loopback, or
# nothing.
global_ipv4() {
	ip -4 -o addr show scope global 2>/dev/null |
		awk '{ sub(/\/.*/, "", $4); print $4; exit }'
}

@test "a cross-origin POST /reset is 403, says why, and resets nothing" {
	start_satellite
	one_report
	run admin_status POST /reset -H 'Origin: http://evil.example' \
		-H 'Content-Type: text/plain' --data-binary 'x'
	assert_output 403
	run cat "$TMP/admin.body"
	assert_output --partial "Origin"
	assert_output --partial "web page"
	run sat_stat .spans_received
	assert_output 100
}

@test "cross-origin /down and /mode are 403 and change nothing" {
	start_satellite
	run admin_status POST /down -H 'Origin: null'
	assert_output 403
	run admin_status POST /mode -H 'Origin: http://evil.example' \
		-H 'Content-Type: text/plain' --data-binary slow_fail
	assert_output 403
	run sat_stat '"\(.up) \(.mode)"'
	assert_output "true typical"
}

@test "a Host that is not loopback (DNS rebinding) is 403" {
	start_satellite
	one_report
	run admin_status POST /reset -H 'Host: evil.example'
	assert_output 403
	run cat "$TMP/admin.body"
	assert_output --partial "Host"
	run admin_status GET /stats -H 'Host: evil.example:8359'
	assert_output 403
	run sat_stat .spans_received
	assert_output 100
}

@test "no Origin and a loopback Host is served: 127.0.0.1, localhost, [::1]" {
	start_satellite
	one_report
	local port=${SAT_ADMIN##*:}
	run admin_status GET /stats -H "Host: 127.0.0.1:$port"
	assert_output 200
	run admin_status GET /stats -H "Host: localhost:$port"
	assert_output 200
	run admin_status GET /stats -H "Host: [::1]:$port"
	assert_output 200
	run admin_status POST /reset -H "Host: 127.0.0.1:$port"
	assert_output 200
	run sat_stat .spans_received
	assert_output 0
}

@test "refusals are counted in /stats as admin_refused, and a reset keeps them" {
	start_satellite
	run sat_stat .admin_refused
	assert_output 0
	admin_status POST /reset -H 'Origin: http://evil.example' >/dev/null
	admin_status GET /stats -H 'Host: evil.example' >/dev/null
	run admin_status POST /reset
	assert_output 200
	run sat_stat '"\(.admin_refused) \(.admin_refused_by_reason | [.origin, .host, .token] | @tsv)"'
	assert_output "$(printf '2 1\t1\t0')"
}

@test "with -b 0.0.0.0 the admin port stays on 127.0.0.1" {
	start_satellite -b 0.0.0.0
	run jq -r '"\(.bind) \(.admin_bind) \(.admin_url)"' <<<"$SAT_READY"
	assert_output "0.0.0.0 127.0.0.1 http://127.0.0.1:${SAT_ADMIN##*:}"
	local port=${SAT_ADMIN##*:}
	# The kernel's own word: the admin socket listens on 127.0.0.1 only
	# (0100007F in /proc/net/tcp), the satellite ports on every address.
	run awk -v p="$(printf '%04X' "$port")" \
		'$4 == "0A" && $2 ~ ":" p "$" { print $2 }' /proc/net/tcp
	assert_output "0100007F:$(printf '%04X' "$port")"
	local ip
	ip=$(global_ipv4)
	[[ -n $ip ]] || skip "no non-loopback IPv4 address to connect through"
	run curl -sS --connect-timeout 3 -o /dev/null -w '%{http_code}' \
		"http://$ip:$port/stats"
	assert_failure 7	# couldn't connect
	run curl -sS --connect-timeout 3 -o /dev/null -w '%{http_code}' \
		-H 'Content-Type: application/octet-stream' \
		--data-binary "@$(mkreport_file r.bin --spans 10)" \
		"http://$ip:$SAT_PORT/api/v2/reports"
	assert_output 200
}

@test "--admin-bind 0.0.0.0 moves the admin port, with a warning on stderr" {
	start_satellite -b 0.0.0.0 --admin-bind 0.0.0.0
	run cat "$SAT_OUT.err"
	assert_output --partial "ltb-satellite: warning: the admin API listens on 0.0.0.0"
	assert_output --partial "--admin-token"
	# The URL to use goes through loopback: a Host of 0.0.0.0 is refused.
	run jq -r '"\(.admin_bind) \(.admin_url)"' <<<"$SAT_READY"
	assert_output "0.0.0.0 http://127.0.0.1:${SAT_ADMIN##*:}"
	run admin_status GET /stats
	assert_output 200
	run curl -sS -o /dev/null -w '%{http_code}' "http://0.0.0.0:${SAT_ADMIN##*:}/stats"
	assert_output 403
	local ip
	ip=$(global_ipv4)
	[[ -n $ip ]] || skip "no non-loopback IPv4 address to connect through"
	# Reached through another address, Host names it: refused without a
	# token.
	run curl -sS -o /dev/null -w '%{http_code}' "http://$ip:${SAT_ADMIN##*:}/stats"
	assert_output 403
}

@test "--admin-bind 127.0.0.1 is quiet" {
	start_satellite -b 0.0.0.0 --admin-bind 127.0.0.1
	run cat "$SAT_OUT.err"
	refute_output --partial "admin API"
}

@test "a bad --admin-bind or --admin-token is a usage error" {
	run ltb-satellite --admin-bind localhost -p 0 -a 0
	assert_failure 2
	assert_line --index 0 "ltb-satellite: bad --admin-bind 'localhost': not an IPv4 or IPv6 address"
	run ltb-satellite --admin-token 'a b' -p 0 -a 0
	assert_failure 2
	assert_line --index 0 --partial "ltb-satellite: bad --admin-token"
}

@test "with --admin-token every path wants Authorization: Bearer, and then Origin and Host do not matter" {
	start_satellite --admin-token s3cret-T0ken
	one_report
	run admin_status GET /stats
	assert_output 401
	run cat "$TMP/admin.body"
	assert_output --partial "Authorization: Bearer"
	run admin_status GET /spans_received -H 'Authorization: Bearer wrong'
	assert_output 401
	run admin_status POST /reset -H 'Authorization: Basic czNjcmV0LVQwa2Vu'
	assert_output 401
	run admin_status GET /spans_received -H 'Authorization: Bearer s3cret-T0ken'
	assert_output 200
	run cat "$TMP/admin.body"
	assert_output 100
	run admin_status GET /stats -H 'Authorization: Bearer s3cret-T0ken' \
		-H 'Host: satellites.example' -H 'Origin: https://dash.example'
	assert_output 200
	run jq '"\(.admin_refused) \(.admin_refused_by_reason.token)"' -r "$TMP/admin.body"
	assert_output "3 3"
}

@test "ltb-sample talks to a satellite with a token through LTB_ADMIN_TOKEN" {
	start_satellite --admin-token s3cret-T0ken
	sample_traced
	assert_failure 3
	[[ $stderr == *"401"*"LTB_ADMIN_TOKEN"* ]] || fail "stderr: $stderr"
	LTB_ADMIN_TOKEN=s3cret-T0ken sample_traced
	echo "$stderr"
	assert_success
	jq -e '.spans_received == 100' <<<"$(results)"
}

@test "ltb-satellite takes its token from LTB_ADMIN_TOKEN too, and never shows it" {
	LTB_ADMIN_TOKEN=from-the-env start_satellite
	[[ $SAT_READY != *from-the-env* ]]
	run admin_status GET /stats
	assert_output 401
	run admin_status GET /stats -H 'Authorization: Bearer from-the-env'
	assert_output 200
	[[ $(cat "$TMP/admin.body") != *from-the-env* ]]
}

# --- IPv6 --------------------------------------------------------------------

@test "--satellites http://[::1]:P: attached over IPv6, clients sent to ::1" {
	ip -6 addr show lo 2>/dev/null | grep -q 'inet6 ::1/128' ||
		skip "no ::1 on lo"
	start_satellite -b ::1
	run jq -r .admin_url <<<"$SAT_READY"
	assert_output "http://[::1]:${SAT_ADMIN##*:}"
	sample_traced
	echo "$stderr"
	assert_success
	jq -e '.spans_received == 100 and .spans_sent == 100' <<<"$(results)"
	run sat_stat .spans_received
	assert_output 100
}

@test "attached through an admin port elsewhere, clients are sent to the satellites' bind address" {
	# Loopback both, but not the same address: the stats record's bind
	# says where the ports are, not the admin URL.
	start_satellite -b 127.0.0.2 --admin-bind 127.0.0.1
	run jq -r '"\(.bind) \(.admin_url)"' <<<"$SAT_READY"
	assert_output "127.0.0.2 http://127.0.0.1:${SAT_ADMIN##*:}"
	sample_traced
	echo "$stderr"
	assert_success
	jq -e '.spans_received == 100' <<<"$(results)"
}
