#!/usr/bin/env bats
# The argv contract (ltb-client(7)): a client of the original LightStep
# Benchmarks, started with the original controller's flags and nothing
# else, runs unmodified. The client is tests/fixtures/argv-client, run
# by command and registered (a temp LTB_CLIENTS_DIR whose client has a
# `contract` file); its spans go to a real ltb-satellite on free ports,
# whose port it is told through LTB_ARGV_PORT (the original's clients
# wrote to 127.0.0.1:8360, which the tests leave alone).

load test_helper

LTB_NOT_IN_FRESH_ROOT="it needs nothing a fresh machine lacks: the plain and sanitizer stages run it"

FIXTURE_DIR=$BATS_TEST_DIRNAME/fixtures

setup_file() {
	[[ -z $(why_not_here) ]] || return 0
	export LTB_CACHE_DIR=$BATS_FILE_TMPDIR/cache
	export LTB_CLIENTS_DIR=$BATS_FILE_TMPDIR/clients
	mkdir -p "$LTB_CLIENTS_DIR/argvc"
	printf '#!/bin/sh\nexec "%s" "$@"\n' "$FIXTURE_DIR/argv-client" >"$LTB_CLIENTS_DIR/argvc/run"
	chmod +x "$LTB_CLIENTS_DIR/argvc/run"
	printf '# what the original controller started it with\nargv\n' >"$LTB_CLIENTS_DIR/argvc/contract"
	# One calibration for the file, its client's argv logged. A shared
	# 2-core machine can be too busy for one to converge (exit 4): it
	# gets two more tries.
	local try
	for try in 1 2 3; do
		rm -f "$BATS_FILE_TMPDIR/calibrate.argv"
		ARGV_LOG=$BATS_FILE_TMPDIR/calibrate.argv \
			PATH="$(cd "$BATS_TEST_DIRNAME/.." && pwd)/${LTB_BUILD:-build}/bin:$PATH" \
			ltb-control calibrate --client argvc --sps 200 --runtime 1.5 \
			--control-port 0 >"$BATS_FILE_TMPDIR/calibration.json" \
			2>"$BATS_FILE_TMPDIR/calibrate.err" && break
	done
}

setup() {
	ltb_setup
	skip_if_not_here
	CLIENT=$FIXTURE_DIR/argv-client
	export ARGV_LOG=$TMP/argv.log
}

# the original controller's argv, for a record's figures
orig() {
	echo "--trace $1 --sleep $2 --sleep_interval $3 --work $4 --repeat $5 --no_flush $6 --num_tags $7 --num_logs $8"
}

@test "the fixture client refuses what the original controller never passed" {
	run "$CLIENT" --trace 0 --sleep 1
	assert_failure 2
	assert_line --partial "usage: argv-client"
	run "$CLIENT" $(orig 0 1 1 1 1 0 1 1) --extra 1
	assert_failure 2
	assert_line --partial "unknown flag '--extra'"
	run "$CLIENT" $(orig 0 1 1 1 0 0 1 1)
	assert_success
}

@test "--contract takes http or argv; anything else is a usage error" {
	run ltb-sample --client-cmd "$CLIENT" --contract grpc --sps 100
	assert_failure 2
	assert_line --partial "ltb-sample: bad --contract 'grpc': use http or argv"
	run ltb-control plan --client-cmd "$CLIENT" --contract grpc --calibration "$BATS_FILE_TMPDIR/calibration.json"
	assert_failure 2
	assert_line --partial "ltb-control: bad --contract 'grpc': use http or argv"
}

@test "a NoOp argv run gets exactly the original's flags after its command, and its start-up probed with --repeat 0" {
	control_record "$TMP/plan.json" contract='"argv"' client_cmd="\"$CLIENT\"" \
		NumTags=3 NumLogs=2 Sleep=100000 SleepInterval=50000000
	run --separate-stderr ltb-sample --plan "$TMP/plan.json" --control-port 0
	assert_success
	local res=$output
	# the probes first (same flags, Repeat 0), then the run
	run cat "$ARGV_LOG"
	assert_output "$(for i in 1 2 3; do orig 0 100000 50000000 1000 0 0 3 2; done; orig 0 100000 50000000 1000 100 0 3 2)"
	run jq -r 'select(.type == "result") | "\(.contract) \(.startup_from) \(.spans_sent) \(.spans_sent_from) \(.error)"' <<<"$res"
	assert_output "argv probe 100 plan null"
}

@test "a client that refuses --repeat 0 is still measured, its start-up left in and said so" {
	# The original JS client throws on a Repeat below 1: its probe fails.
	cat >"$TMP/refuser" <<-SH
	#!/bin/sh
	case " \$* " in *" --repeat 0 "*) echo "Error: Number of traces to send (repeat variable) must be > 0." >&2; exit 1 ;; esac
	exec "$CLIENT" "\$@"
	SH
	chmod +x "$TMP/refuser"
	control_record "$TMP/plan.json" contract='"argv"' client_cmd="\"$TMP/refuser\""
	run --separate-stderr ltb-sample --plan "$TMP/plan.json" --control-port 0
	assert_success
	run jq -r 'select(.type == "result") | "\(.startup_from) \(.startup_cpu) \(.startup_time) \(.spans_sent) \(.error)"' <<<"$output"
	assert_output "none 0 0 100 null"
	[[ $stderr == *"measuring the start-up of c (NoOp): 3 runs of --repeat 0"* ]] || fail "no note of the probe: $stderr"
	[[ $stderr == *"its run of --repeat 0 failed"*"its start-up is left in its window (startup_from \"none\")"* ]] ||
		fail "no note of the failed probe: $stderr"
	# the client's own words are shown too
	[[ $stderr == *"must be > 0"* ]] || fail "the client's error is not shown: $stderr"
}

@test "a traced argv run's spans are counted exactly at the satellites, spans_sent from the plan without a summary" {
	start_satellite
	export LTB_ARGV_PORT=$SAT_PORT
	control_record "$TMP/plan.json" contract='"argv"' client_cmd="\"$CLIENT\"" \
		Trace=true Repeat=300 Sleep=1000000 NumTags=4 NumLogs=1
	run --separate-stderr ltb-sample --plan "$TMP/plan.json" --satellites "$SAT_ADMIN" --control-port 0
	assert_success
	assert_equal "$(tail -n 1 "$ARGV_LOG")" "$(orig 1 1000000 100000000 1000 300 0 4 1)"
	run jq -r 'select(.type == "result") | "\(.trace) \(.spans_sent) \(.spans_sent_from) \(.spans_received) \(.dropped) \(.error)"' <<<"$output"
	assert_output "true 300 plan 300 0 null"
}

@test "an argv client's summary line, when it prints one, is its spans_sent" {
	start_satellite
	export LTB_ARGV_PORT=$SAT_PORT LTB_ARGV_SUMMARY=1
	control_record "$TMP/plan.json" contract='"argv"' client_cmd="\"$CLIENT\"" \
		Trace=true Repeat=200 Sleep=1000000
	run --separate-stderr ltb-sample --plan "$TMP/plan.json" --satellites "$SAT_ADMIN" --control-port 0
	assert_success
	run jq -r 'select(.type == "result") | "\(.spans_sent) \(.spans_sent_from) \(.spans_received) \(.fingerprint.tracer)"' <<<"$output"
	assert_output "200 client 200 argv-client"
}

@test "a traced argv run whose spans never arrive says the client is not told where the satellites are" {
	start_satellite
	# a port nothing listens on: the client's reports go nowhere
	export LTB_ARGV_PORT=9
	control_record "$TMP/plan.json" contract='"argv"' client_cmd="\"$CLIENT\"" \
		Trace=true Repeat=50 Sleep=1000000
	run --separate-stderr ltb-sample --plan "$TMP/plan.json" --satellites "$SAT_ADMIN" --control-port 0
	assert_failure 1
	run jq -r 'select(.type == "result") | .error' <<<"$output"
	assert_output --partial "an argv client is not told where the satellites are"
	assert_output --partial "127.0.0.1:8360-8367"
	assert_output --partial "127.0.0.1:$SAT_PORT"
}

@test "an argv client's start-up is probed and taken out of its window" {
	skip_if_sanitized "cpu_usage"
	export ARGV_STARTUP=1
	# 100 spans of 1000 Work and 10 ms of sleep: about a second asleep
	control_record "$TMP/plan.json" contract='"argv"' client_cmd="\"$CLIENT\""
	run --separate-stderr ltb-sample --plan "$TMP/plan.json" --control-port 0
	assert_success
	run jq -r 'select(.type == "result") | "\(.startup_from) \(.startup_cpu > 0.4) \(.startup_time > 0.6) \(.cpu_usage < 0.3) \(.clock_time > 0.5 and .clock_time < 1.6)"' <<<"$output"
	assert_output "probe true true true true"
}

@test "an argv run no longer than its start-up measured nothing, and fails saying so" {
	# start-up only in the probe: the run itself is shorter than it
	export ARGV_STARTUP=probe
	control_record "$TMP/plan.json" contract='"argv"' client_cmd="\"$CLIENT\"" Sleep=0 Repeat=10
	run --separate-stderr ltb-sample --plan "$TMP/plan.json" --control-port 0
	assert_failure 1
	run jq -r 'select(.type == "result") | .error' <<<"$output"
	assert_output --partial "no longer than the client's start-up"
	assert_output --partial "raise the runtime"
}

@test "ltb-control calibrate probes an argv client with --repeat 0 first and keeps its start-up" {
	[[ -s $BATS_FILE_TMPDIR/calibration.json ]] || {
		cat "$BATS_FILE_TMPDIR/calibrate.err" >&2
		false
	}
	run head -n 3 "$BATS_FILE_TMPDIR/calibrate.argv"
	assert_output "$(for i in 1 2 3; do orig 0 0 100000000 100000 0 0 10 15; done)"
	# every line is the original's flags, nothing more
	run grep -cvE '^--trace 0 --sleep [0-9]+ --sleep_interval 100000000 --work [0-9]+ --repeat [0-9]+ --no_flush 0 --num_tags 10 --num_logs 15$' "$BATS_FILE_TMPDIR/calibrate.argv"
	assert_output 0
	run jq -r '"\(.contract) \(.startup_cpu >= 0) \(.startup_time > 0)"' "$BATS_FILE_TMPDIR/calibration.json"
	assert_output "argv true true"
}

@test "a registered client's contract file makes ltb-sample start it by argv, its start-up from the calibration" {
	run --separate-stderr ltb-sample --client argvc --trace off --sps 100 --runtime 1 --control-port 0
	assert_success
	assert_equal "$(wc -l <"$ARGV_LOG")" 1
	run jq -r 'select(.type == "result") | "\(.contract) \(.startup_from) \(.spans_sent) \(.error)"' <<<"$output"
	assert_output "argv calibration 100 null"
	assert_equal "$(cut -d' ' -f1-2,9-16 "$ARGV_LOG")" "--trace 0 --repeat 100 --no_flush 0 --num_tags 10 --num_logs 15"
}

@test "ltb-control plan --contract argv, from another client's calibration, pipes into ltb-sample --plan -" {
	start_satellite
	export LTB_ARGV_PORT=$SAT_PORT
	run --separate-stderr ltb-control plan --client-cmd "$CLIENT" --contract argv \
		--calibration "$BATS_FILE_TMPDIR/calibration.json" --sps 100 --runtime 1 --trace both
	assert_success
	assert_equal "$(jq -r .contract <<<"$output" | sort -u)" argv
	# another client's start-up is not this one's: none is carried
	assert_equal "$(jq -r 'has("startup_cpu")' <<<"$output" | sort -u)" false
	printf '%s\n' "$output" >"$TMP/plan.json"
	run --separate-stderr ltb-sample --plan - --satellites "$SAT_ADMIN" --control-port 0 <"$TMP/plan.json"
	assert_success
	run jq -r 'select(.type == "result") | "\(.trace) \(.contract) \(.startup_from) \(.spans_sent) \(.spans_received)"' <<<"$output"
	assert_output "$(printf '%s\n' 'false argv probe 100 null' 'true argv probe 100 100')"
	# one probe each for NoOp and traced (three runs each, a median)
	assert_equal "$(grep -c -- '--repeat 0 ' "$ARGV_LOG")" 6
}

@test "ltb-control plan carries an argv calibration's start-up into the client's own NoOp records, not its traced ones" {
	run --separate-stderr ltb-control plan --client argvc --calibration "$BATS_FILE_TMPDIR/calibration.json" --sps 100 --runtime 1 --trace both
	assert_success
	# the calibration's probes were NoOp: a traced run's start-up holds
	# the tracer's set-up, and is probed with the tracer on
	run jq -r '"\(.Trace) \(.contract) \(.startup_cpu == $c.startup_cpu) \(.startup_time == $c.startup_time) \(has("startup_cpu"))"' \
		--argjson c "$(cat "$BATS_FILE_TMPDIR/calibration.json")" <<<"$output"
	assert_output "$(printf '%s\n' 'false argv true true true' 'true argv false false false')"
}

@test "--contract http overrides the contract file: the client is then started without flags" {
	run --separate-stderr ltb-control plan --client argvc --contract http --calibration "$BATS_FILE_TMPDIR/calibration.json" --sps 100 --runtime 1
	assert_success
	assert_equal "$(jq -r 'has("contract")' <<<"$output")" false
	# started the http way, with no argument: the original's client
	# refuses that, and never fetches
	printf '%s\n' "$output" >"$TMP/plan.json"
	run --separate-stderr ltb-sample --plan "$TMP/plan.json" --control-port 0 --fetch-timeout 2
	assert_failure 1
	assert_equal "$(cat "$ARGV_LOG")" ""
	assert_equal "$(wc -l <"$ARGV_LOG")" 1
	run jq -r 'select(.type == "result") | "\(.contract) \(.exit_status)"' <<<"$output"
	assert_output "http 2"
}

@test "a contract file's errors name its file and line" {
	mkdir -p "$TMP/clients/bad"
	cp "$LTB_CLIENTS_DIR/argvc/run" "$TMP/clients/bad/run"
	printf '\n# comment\nsoap\n' >"$TMP/clients/bad/contract"
	LTB_CLIENTS_DIR=$TMP/clients run ltb-sample --client bad --sps 100
	assert_failure 2
	assert_line --partial "ltb-sample: $TMP/clients/bad/contract:3: unknown contract 'soap' (known: http, argv)"
	printf 'argv\nhttp\n' >"$TMP/clients/bad/contract"
	LTB_CLIENTS_DIR=$TMP/clients run ltb-control plan --client bad --calibration "$BATS_FILE_TMPDIR/calibration.json"
	assert_failure 2
	assert_line --partial "$TMP/clients/bad/contract:2: a second contract (line 1 named one)"
	printf '# nothing\n' >"$TMP/clients/bad/contract"
	LTB_CLIENTS_DIR=$TMP/clients run ltb-control plan --client bad --calibration "$BATS_FILE_TMPDIR/calibration.json"
	assert_failure 2
	assert_line --partial "$TMP/clients/bad/contract: names no contract (known: http, argv)"
}
