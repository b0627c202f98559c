#!/usr/bin/env bats
# client-js-spectator: the js-spectator client (clients/js-spectator, the
# real nflx-spectator 1.0.0 from npm, publishing to Atlas over HTTP) run by
# hand against a real ltb-satellite, its control message served from a
# file through LTB_CONTROL_URL=file://..., and run by ltb-sample. Skipped,
# with the reason, where Node.js or npm is missing.
#
# The registry aggregates updates per step: the unit counted on both sides
# is the measurement published, so spans_sent is what the registry
# published and the satellites' spans_received must equal it.

load test_helper

LTB_NOT_UNDER_SANITIZER="its client is a third-party node library, which no sanitizer instruments; the ltb-sample, satellite and protocol code it drives runs under the sanitizers in ltb-sample*.bats, ltb-satellite*.bats and the fuzz targets"

CLIENT_DIR=$LTB_ROOT/clients/js-spectator

setup_file() {
	[[ -z $(why_not_here) ]] || return 0
	# bats 1.8 cannot skip from setup_file: each test skips in setup.
	if ! command -v node >/dev/null; then
		export JSSPEC_SKIP="node not found: the js-spectator client needs Node.js (>= 18) and npm"
	elif ! command -v npm >/dev/null; then
		export JSSPEC_SKIP="npm not found: the js-spectator client needs Node.js (>= 18) and npm"
	else
		"$CLIENT_DIR/setup" >&2 ||
			fail "clients/js-spectator/setup failed (see above)"
	fi
	export LTB_CACHE_DIR=$BATS_FILE_TMPDIR/cache
}

setup() {
	ltb_setup
	skip_if_not_here
	[[ -z ${JSSPEC_SKIP:-} ]] || skip "$JSSPEC_SKIP"
}

# control [JQ ASSIGNMENTS]: write $TMP/control.json, a small traced run
# of 2000 updates over about 1.2 s (several steps of 200 ms) aimed at the
# satellite started last, changed by the jq expression, and point
# LTB_CONTROL_URL at it.
control() {
	jq -n --argjson port "${SAT_PORT:-8360}" '{
		Trace: true, Sleep: 600000, SleepInterval: 20000000, Work: 1000,
		Repeat: 2000, NoFlush: false, NumTags: 10, Protocol: "atlas",
		SatelliteHost: "127.0.0.1", SatellitePorts: [$port],
		ReportingPeriodMs: 200, Meters: ["counter", "timer", "gauge"]
	} | '"${1:-.}" >"$TMP/control.json"
	export LTB_CONTROL_URL=file://$TMP/control.json
}

# client_field KEY: one field of the client's JSON line (in $line).
client_field() {
	jq -r ".$1" <<<"$line"
}

# assert_all_counted N: the satellites counted N measurements, all on the
# Atlas path, every one valid, none rejected.
assert_all_counted() {
	run sat_stat '[.spans_received, .protocols.atlas.received, .invalid_spans,
		.rejected_reports, .unknown_path_requests] | @tsv'
	assert_output "$(printf '%s\t%s\t0\t0\t0' "$1" "$1")"
}

@test "setup is idempotent: a second run is quiet and does nothing" {
	run --separate-stderr "$CLIENT_DIR/setup"
	assert_success
	assert_equal "$output" ""
	assert_equal "$stderr" ""
}

@test "the lockfile pins nflx-spectator 1.0.0, and its default protocol is atlas" {
	run jq -r '.packages["node_modules/nflx-spectator"].version' "$CLIENT_DIR/package-lock.json"
	assert_output 1.0.0
	run jq -r '.dependencies["nflx-spectator"]' "$CLIENT_DIR/package.json"
	assert_output 1.0.0
	run cat "$CLIENT_DIR/protocol"
	assert_output atlas
}

@test "2000 updates: every measurement the registry publishes is counted, none dropped" {
	start_satellite
	control
	run --separate-stderr "$CLIENT_DIR/run"
	assert_success
	assert_equal "${#lines[@]}" 1
	local line=$output
	run jq -c '[.type, .v, .client, .trace, .updates, .dropped, .rejected, .failed,
		.in_flight, .unsent, .publishes_failed, .tracer]' <<<"$line"
	assert_output '["client",1,"js-spectator",true,2000,0,0,0,0,0,0,"nflx-spectator 1.0.0"]'
	local sent own lib
	sent=$(client_field spans_sent)
	own=$(client_field measurements_own)
	lib=$(client_field measurements_library)
	assert_equal "$sent" "$((own + lib))"
	# Updates aggregate: far fewer measurements than updates, but some of
	# the client's own in every step it published in.
	((own > 0 && sent < 2000)) || fail "spans_sent $sent, own $own"
	local publishes
	publishes=$(client_field publishes_ok)
	assert_all_counted "$sent"
	# one message a publish, several steps' worth
	run sat_stat '.protocols.atlas.messages'
	assert_output "$publishes"
	((publishes >= 2)) || fail "$publishes publishes"
}

@test "every meter type nflx-spectator 1.0.0 has publishes, every measurement counted" {
	start_satellite
	control '.Meters = ["counter", "timer", "gauge", "distribution_summary",
		"percentile_timer", "percentile_distribution_summary"] | .Repeat = 600'
	run --separate-stderr "$CLIENT_DIR/run"
	assert_success
	local line=$output
	run jq -c '[.updates, .dropped, .publishes_failed]' <<<"$line"
	assert_output '[600,0,0]'
	assert_all_counted "$(client_field spans_sent)"
}

@test "a meter type the library does not have is refused (exit 2), naming the ones it has" {
	start_satellite
	control '.Meters = ["counter", "max_gauge"]'
	run --separate-stderr "$CLIENT_DIR/run"
	assert_failure 2
	assert_equal "$output" ""
	[[ $stderr == *"nflx-spectator 1.0.0 has no max_gauge meter"* ]] || fail "$stderr"
	run sat_stat .spans_received
	assert_output 0
}

@test "Trace false: NoOp meters, nothing published" {
	start_satellite
	control '.Trace = false'
	run --separate-stderr "$CLIENT_DIR/run"
	assert_success
	run jq -c '[.trace, .spans_sent, .dropped, .updates, .tracer]' <<<"$output"
	assert_output '[false,0,0,2000,"noop"]'
	run sat_stat .spans_received
	assert_output 0
}

@test "satellites down: the publishes fail, counted as dropped, and the client still exits 0" {
	start_satellite
	control '.Repeat = 600'
	run curl -sS -X POST "$SAT_ADMIN/down"
	assert_success
	run --separate-stderr "$CLIENT_DIR/run"
	assert_success
	run jq -r '[.spans_sent > 0, .dropped == .spans_sent, .failed == .spans_sent,
		.publishes_ok] | @tsv' <<<"$output"
	assert_output "$(printf 'true\ttrue\ttrue\t0')"
}

@test "NoFlush: what the registry still holds is unsent, counted as dropped, and the rest received" {
	start_satellite
	control '.NoFlush = true | .ReportingPeriodMs = 500'
	run --separate-stderr "$CLIENT_DIR/run"
	assert_success
	local line=$output
	run jq -r '[.dropped == .unsent + .in_flight, .rejected, .failed] | @tsv' <<<"$line"
	assert_output "$(printf 'true\t0\t0')"
	# A publish in flight at exit may still get through.
	local sent unsent dropped got
	sent=$(client_field spans_sent)
	unsent=$(client_field unsent)
	dropped=$(client_field dropped)
	sleep 0.5
	got=$(sat_stat .spans_received)
	((got >= sent - dropped && got <= sent - unsent)) ||
		fail "received $got of $sent, $unsent unsent, $dropped dropped"
}

@test "a control message it cannot use is exit 2" {
	control '.Tls = true'
	run --separate-stderr "$CLIENT_DIR/run"
	assert_failure 2
	LTB_CONTROL_URL=file://$TMP/nothing.json run --separate-stderr "$CLIENT_DIR/run"
	assert_failure 2
}

# --- through ltb-sample ----------------------------------------------------

# seed_calibration: a calibration of js-spectator in the cache, so
# ltb-sample plans from it instead of calibrating (see client-js-otel.bats).
seed_calibration() {
	mkdir -p "$LTB_CACHE_DIR"
	jq -nc --arg host "$(hostname)" '{type:"calibration",v:1,client:"js-spectator",
		target_cpu:0.7,sleep_per_work_ns:14.2857,work_per_second:1e8,
		achieved_cpu:0.7,iterations:1,host:$host,created:"test"}' \
		>"$LTB_CACHE_DIR/calibration-js-spectator-0.70-$(hostname).json"
}

@test "ltb-sample --client js-spectator --trace --sps 500 --runtime 3: every measurement published is received" {
	seed_calibration
	run --separate-stderr ltb-sample --client js-spectator --protocol atlas --trace \
		--sps 500 --runtime 3 --control-port 0
	assert_success
	local r
	r=$(results)
	run jq -r '[.client, .trace, .spans_sent_from, .spans_sent == .spans_received,
		.spans_sent > 0, .dropped, .tracer_dropped, .spans_duplicate, .spans_invalid,
		.error] | @tsv' <<<"$r"
	assert_output "$(printf 'js-spectator\ttrue\tclient\ttrue\ttrue\t0\t0\t0\t0\t')"
}
