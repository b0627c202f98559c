#!/usr/bin/env bats
# ltb-sample: real runs of real clients against real satellites, with
# short runtimes. One calibration of the C client is shared by the file.

load test_helper

LTB_NOT_IN_FRESH_ROOT="ltb-sample needs only what client-c.bats and make demo use there; run on the normal and sanitizer builds"

setup_file() {
	[[ -z $(why_not_here) ]] || return 0
	export LTB_CACHE_DIR=$BATS_FILE_TMPDIR/cache
	PATH="$(cd "$BATS_TEST_DIRNAME/.." && pwd)/${LTB_BUILD:-build}/bin:$PATH" \
		ltb-control calibrate --client c --runtime 1 --control-port 0 \
		>"$BATS_FILE_TMPDIR/calibration.json"
}

setup() {
	ltb_setup
	skip_if_not_here
	tag_env
}

teardown() {
	ltb_teardown
	local p
	for p in $(tagged_pids); do kill -KILL "$p" 2>/dev/null || true; done
}

@test "--help prints the usage on stdout and exits 0" {
	run ltb-sample --help
	assert_success
	assert_line --partial "usage: ltb-sample --plan FILE|-"
	assert_line --partial "--satellite-down-at S"
	assert_line --partial "--satellite-script FILE"
}

@test "no client named is a usage error" {
	run ltb-sample --sps 100
	assert_failure 2
	assert_line --partial "ltb-sample: name a client"
}

@test "a malformed plan line is exit 2 naming the line" {
	control_record "$TMP/plan.jsonl"
	echo '{"type":"control", broken' >>"$TMP/plan.jsonl"
	run ltb-sample --plan "$TMP/plan.jsonl" --control-port 0
	assert_failure 2
	assert_output --partial "$TMP/plan.jsonl:2: not a JSON object"
}

@test "an empty plan is exit 2, not a pass" {
	: >"$TMP/plan.jsonl"
	run ltb-sample --plan "$TMP/plan.jsonl" --control-port 0
	assert_failure 2
	assert_output --partial "no control records"
}

@test "the C client at 100 and 300 sps drops nothing and lasts its runtime" {
	run --separate-stderr ltb-sample --client c --trace --sps 100,300 \
		--runtime 2 --control-port 0
	assert_success
	# In the seed's order of rates: sorted here, the order is not the point.
	run jq -sr 'sort_by(.target_sps)[] | [.target_sps, .spans_sent, .spans_received, .dropped, .error] | @tsv' <<<"$(results)"
	assert_output "$(printf '100\t200\t200\t0\t\n300\t600\t600\t0\t')"
	# Runtime within 10% of the 2 s asked.
	run --separate-stderr ltb-sample --client c --trace off --sps 300 --runtime 2 --control-port 0
	jq -e '.clock_time >= 1.8 and .clock_time <= 2.2' <<<"$(results)"
}

@test "a result carries the fields the gates and graphs read" {
	run --separate-stderr ltb-sample --client c --trace --sps 200 --runtime 1.5 \
		--interval 0.25 --control-port 0
	assert_success
	run jq -r '[.type, .v, .client, .trace, .target_sps, .runtime, .trial,
		(.program_time > 0), (.cpu_usage > 0.3), (.sps > 100),
		(.memory_max >= .memory_last), (.memory_last > 1000000),
		(.cpu_list | length >= 4), (.memory_list | length >= 4),
		.exit_status, (.noise.loadavg >= 0), (.noise | has("steal_s"))] | @tsv' <<<"$(results)"
	assert_output "$(printf 'result\t1\tc\ttrue\t200\t1.5\t0\ttrue\ttrue\ttrue\ttrue\ttrue\ttrue\ttrue\t0\ttrue\ttrue')"
}

@test "calibration lands within 0.05 of 0.7, measured on a NoOp run" {
	skip_if_sanitized "the CPU a calibration lands on"
	run jq -r '[.type, .client, .target_cpu, (.achieved_cpu - 0.7 | fabs < 0.05)] | @tsv' \
		"$BATS_FILE_TMPDIR/calibration.json"
	assert_output "$(printf 'calibration\tc\t0.7\ttrue')"
	run --separate-stderr ltb-sample --client c --trace off --sps 500 --runtime 2 --control-port 0
	assert_success
	cpu=$(jq .cpu_usage <<<"$(results)")
	echo "cpu $cpu" >&3
	jq -e '.cpu_usage - 0.7 | fabs < 0.05' <<<"$(results)"
}

@test "calibration lands within 0.05 of 0.8 too" {
	skip_if_sanitized "the CPU a calibration lands on"
	run --separate-stderr ltb-control calibrate --client c --target-cpu 0.8 \
		--runtime 1 --control-port 0
	assert_success
	jq -e '.target_cpu == 0.8 and (.achieved_cpu - 0.8 | fabs < 0.05)' <<<"$(results)"
	run --separate-stderr ltb-sample --client c --trace off --sps 500 --runtime 2 \
		--target-cpu 0.8 --control-port 0
	assert_success
	jq -e '.cpu_usage - 0.8 | fabs < 0.05' <<<"$(results)"
}

@test "--trace both runs NoOp and traced in pairs, ABBA" {
	run --separate-stderr ltb-sample --client c --trace both --trials 2 --sps 200 \
		--runtime 1 --control-port 0
	assert_success
	# Pair 0 (trial 0) base then test, pair 1 (trial 1) test then base.
	run jq -r '[.trace, .trial, .pair, .arm, (.spans_received | tostring)] | @tsv' <<<"$(results)"
	assert_output "$(printf 'false\t0\t0\tbase\tnull\ntrue\t0\t0\ttest\t200\ntrue\t1\t1\ttest\t200\nfalse\t1\t1\tbase\tnull')"
}

@test "runs a plan from ltb-control plan on stdin" {
	run bash -c "ltb-control plan --client c --sps 150 --runtime 1 --trace both |
		ltb-sample --plan - --control-port 0 2>/dev/null"
	assert_success
	run jq -r '[.trace, .target_sps, .spans_sent, .arm] | @tsv' <<<"$(results)"
	assert_output "$(printf 'false\t150\t150\tbase\ntrue\t150\t150\ttest')"
}

@test "results carry their pair, arm, seed, planted cost and the machine's fingerprint" {
	run --separate-stderr ltb-sample --client c --trace both --sps 100 --runtime 0.3 \
		--seed 3 --planted-ns 2000 --control-port 0
	assert_success
	run jq -r '[.pair, .arm, .seed, .planted_ns, .fingerprint.client] | @tsv' <<<"$(results)"
	# the NoOp base arm plants nothing
	assert_output "$(printf '0\tbase\t3\t0\tc\n0\ttest\t3\t2000\tc')"
	wps=$(jq .work_per_second "$BATS_FILE_TMPDIR/calibration.json")
	model=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n 1 | sed 's/[[:space:]]*$//')
	jq -e --argjson wps "$wps" --arg kernel "$(uname -r)" --arg model "$model" \
		--argjson cores "$(getconf _NPROCESSORS_ONLN)" '.fingerprint |
		.cores > 0 and .cores == $cores and .kernel == $kernel and
		.work_per_second == $wps and
		.cpu_model == (if $model == "" then null else $model end) and
		has("tracer") and (.tracer == null or (.tracer | type) == "string")' <<<"$(results)"
}

@test "a client's planted_ns_measured and tracer reach the result; a record without a plan's fields has none" {
	cat >"$TMP/client.sh" <<-'EOF'
		curl -s "$LTB_CONTROL_URL" >/dev/null
		echo '{"type":"client","spans_sent":100,"tracer":"fake-tracer 1.2","planted_ns":5000,"planted_ns_measured":4987.5}'
	EOF
	control_record "$TMP/plan.jsonl" client_cmd="\"sh $TMP/client.sh\""
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 0
	assert_success
	run jq -c '[.planted_ns_measured, .fingerprint.tracer, .fingerprint.work_per_second,
		has("pair"), has("arm"), has("seed"), has("planted_ns")]' <<<"$(results)"
	assert_output '[4987.5,"fake-tracer 1.2",null,false,false,false,false]'
	# A measure that cannot be one fails the run, saying so.
	sed -i 's/4987.5/-3/' "$TMP/client.sh"
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 0
	assert_failure 1
	run jq -r '[.error, has("planted_ns_measured")] | @tsv' <<<"$(results)"
	assert_output "$(printf "the client's summary has planted_ns_measured -3: not a mean of nanoseconds\tfalse")"
}

@test "satellites taken down mid-run show as dropped spans and as events" {
	run --separate-stderr ltb-sample --client c --trace --sps 200 --runtime 3 \
		--satellite-down-at 1 --satellite-up-at 2 --control-port 0
	assert_success
	jq -e '.dropped > 0 and .spans_received > 0 and .spans_received + .dropped == 600' <<<"$(results)"
	run jq -r '.events[] | "\(.event) \(.t | floor)"' <<<"$(results)"
	assert_output "$(printf 'satellite_down 1\nsatellite_up 2')"
}

@test "a scripted 429 with Retry-After shows as an event, and every span is accounted for" {
	start_satellite --ports 0,0,0
	echo '[{"at_s": 1, "for_s": 1, "status": 429, "retry_after": "1"}]' >"$TMP/script.json"
	run --separate-stderr ltb-sample --client c --trace --sps 200 --runtime 3 \
		--satellites "$SAT_ADMIN" --satellite-script "$TMP/script.json" --control-port 0
	assert_success
	res=$(results)
	run jq -r '.events[] | "\(.event) \(.t | floor) \(.step) \(.for_s) \(.answer)"' <<<"$res"
	assert_output "script_step 1 0 1 429 Retry-After 1"
	# The C tracer does not retry: what the 429 refused arrived, is
	# received, and is dropped, by the satellites' count and the client's.
	jq -e '.spans_refused > 0 and .dropped_refused == .spans_refused and
		.dropped == .dropped_refused and .tracer_dropped == .dropped and
		.spans_intact + .dropped == .spans_sent and
		.spans_received == .spans_sent and .spans_duplicate == 0 and
		.spans_retried == 0 and .spans_sent == 600' <<<"$res"
	run jq -r .accounting <<<"$res"
	assert_output --regexp '^600 sent = [0-9]+ intact \+ [0-9]+ dropped \([0-9]+ refused by the satellites and never through, 0 never arrived\); the client counted the same [0-9]+ dropped$'
	# The satellites counted the step, and were left without a script.
	run sat_stat '[.rejected.scripted > 0, .script.steps == []] | @tsv'
	assert_output "$(printf 'true\ttrue')"
}

@test "js-otel retries a scripted 429 honouring Retry-After: the retries are duplicates and every span is accounted for" {
	[[ -x $LTB_ROOT/clients/js-otel/run ]] || skip "no clients/js-otel yet"
	command -v npm >/dev/null || skip "npm not found: js-otel needs Node.js and npm"
	"$LTB_ROOT/clients/js-otel/setup"
	# 1000 spans over 5 s; the satellites throttle from 1 s to 3 s.
	control_record "$TMP/plan.jsonl" client='"js-otel"' Trace=true \
		Repeat=1000 runtime=5 target_sps=200 Sleep=5000000 Work=0
	echo '[{"at_s": 1, "for_s": 2, "status": 429, "retry_after": "1"}]' >"$TMP/script.json"
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 0 \
		--satellite-script "$TMP/script.json"
	assert_success
	res=$(results)
	run jq -r '.events[] | "\(.event) \(.t | floor) \(.answer)"' <<<"$res"
	assert_output "script_step 1 429 Retry-After 1"
	# The exporter sent the refused spans again: they got through once
	# (retried) and their copies are duplicates, never more spans.
	jq -e '.spans_refused > 0 and .spans_retried > 0 and
		.spans_duplicate >= .spans_retried and
		.spans_intact + .dropped == .spans_sent and
		.tracer_dropped == .dropped and .dropped_refused <= .dropped and
		.spans_sent == 1000' <<<"$res" || fail "does not add up: $res"
	run jq -r .accounting <<<"$res"
	assert_output --partial "of the intact through on a retry after a refusal"
	assert_output --partial "duplicate copies, not counted as spans"
	assert_output --partial "the client counted the same"
}

@test "a bad --satellite-script is exit 2 naming the file, step and field, before any run" {
	echo '[{"at_s": 1, "for_s": 2, "status": 429}, {"at_s": 2, "for_s": 1, "drop": true}]' >"$TMP/overlap.json"
	run ltb-sample --client c --trace --sps 100 --runtime 1 --control-port 0 \
		--satellite-script "$TMP/overlap.json"
	assert_failure 2
	assert_output "ltb-sample: --satellite-script: $TMP/overlap.json: steps[1].at_s is 2: it starts before steps[0] ends (at 3 s); steps go in time order and do not overlap"
	echo '[{"at_s": 1, "for_s": 2, "staus": 429}]' >"$TMP/typo.json"
	run ltb-sample --client c --sps 100 --control-port 0 --satellite-script "$TMP/typo.json"
	assert_failure 2
	assert_output --partial "$TMP/typo.json: steps[0] has an unknown key \"staus\""
	run ltb-sample --client c --sps 100 --control-port 0 --satellite-script "$TMP/none.json"
	assert_failure 2
	assert_output --partial "cannot read $TMP/none.json"
}

@test "a satellite group named with --satellites is used and left running" {
	start_satellite --ports 0,0,0
	run --separate-stderr ltb-sample --client c --trace --sps 100 --runtime 1 \
		--satellites "$SAT_ADMIN" --control-port 0
	assert_success
	jq -e '.spans_received == 100' <<<"$(results)"
	run sat_stat .spans_received
	assert_output 100
	kill -0 "$SAT_PID"
}

@test "the js-lightstep client drops nothing at 100 sps" {
	"$LTB_ROOT/clients/js-lightstep/setup"
	control_record "$TMP/plan.jsonl" client='"js-lightstep"' Trace=true \
		Repeat=200 runtime=2 Sleep=10000000 Work=1000
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 0
	assert_success
	run jq -r '[.client, .spans_sent, .spans_received, .dropped, .error] | @tsv' <<<"$(results)"
	assert_output "$(printf 'js-lightstep\t200\t200\t0\t')"
}

# --- failures: a clear error, exit 1, nothing left behind -----------------

@test "a crashing client gives an error record and exit 1" {
	control_record "$TMP/plan.jsonl" client='"crash"' \
		client_cmd='"curl -s \"$LTB_CONTROL_URL\" >/dev/null; kill -SEGV $$"'
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 0
	assert_failure 1
	run jq -r '[.error, .exit_status] | @tsv' <<<"$(results)"
	assert_output "$(printf 'the client was killed by a signal: Segmentation fault\t139')"
	assert_no_process_left
}

@test "a client exiting non-zero is a failed run" {
	control_record "$TMP/plan.jsonl" client_cmd='"curl -s \"$LTB_CONTROL_URL\" >/dev/null; exit 4"'
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 0
	assert_failure 1
	jq -e '.error == "the client exited with status 4" and .exit_status == 4' <<<"$(results)"
}

@test "a hanging client is killed at the timeout, with its whole tree" {
	control_record "$TMP/plan.jsonl" client_cmd='"curl -s \"$LTB_CONTROL_URL\" >/dev/null; sleep 300 & sleep 300"'
	SECONDS=0
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 0
	assert_failure 1
	((SECONDS < 30))
	run jq -r .error <<<"$(results)"
	assert_output --partial "did not finish in 6.0 s"
	assert_no_process_left
}

@test "a client that never fetches its control message is stopped" {
	control_record "$TMP/plan.jsonl" client_cmd='"sleep 300"'
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 0 \
		--fetch-timeout 1
	assert_failure 1
	run jq -r .error <<<"$(results)"
	assert_output --regexp '^the client never fetched its control message from http://127\.0\.0\.1:[0-9]+/control$'
	assert_no_process_left
}

@test "a client that exits 0 at once without fetching is a failed run" {
	control_record "$TMP/plan.jsonl" client_cmd='"exit 0"'
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 0
	assert_failure 1
	run jq -r .error <<<"$(results)"
	assert_output --regexp '^the client never fetched its control message from http://127\.0\.0\.1:[0-9]+/control$'
}

@test "a missing client is a failed run naming where it looked" {
	control_record "$TMP/plan.jsonl" client='"no-such-client"'
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 0
	assert_failure 1
	run jq -r .error <<<"$(results)"
	# every shipped client named, in order (more may come between)
	assert_output --regexp "no client 'no-such-client' \(the clients are: c(, [a-z-]+)*, js-lightstep, js-otel(, [a-z-]+)*\): no no-such-client/run in"
	assert_output --partial "js-spectator"
	assert_no_process_left
}

@test "a control port already in use is exit 3 and says so" {
	start_satellite
	port=${SAT_PORTS[0]}
	run ltb-sample --client c --sps 100 --runtime 1 --control-port "$port"
	assert_failure 3
	assert_output --partial "ltb-sample: cannot bind 127.0.0.1:$port: Address already in use"
	# Our own satellite is the test's: end it, then nothing must be left.
	kill "$SAT_PID"
	wait "$SAT_PID"
	assert_no_process_left
}

@test "SIGTERM stops a run cleanly, leaving no process behind" {
	control_record "$TMP/plan.jsonl" client_cmd='"curl -s \"$LTB_CONTROL_URL\" >/dev/null; sleep 300"' runtime=100
	ltb-sample --plan "$TMP/plan.jsonl" --control-port 0 >"$TMP/out" 2>"$TMP/err" &
	pid=$!
	started $pid
	# ltb-sample, its satellite and the client's shell.
	three() { (($(tagged_pids | wc -l) >= 3)); }
	wait_for 10 three
	kill -TERM "$pid"
	status=0
	wait "$pid" || status=$?
	assert_equal "$status" 143
	assert_no_process_left
}

@test "SIGINT (Ctrl-C) does the same" {
	control_record "$TMP/plan.jsonl" client_cmd='"curl -s \"$LTB_CONTROL_URL\" >/dev/null; sleep 300"' runtime=100
	ltb-sample --plan "$TMP/plan.jsonl" --control-port 0 >"$TMP/out" 2>"$TMP/err" &
	pid=$!
	started $pid
	three() { (($(tagged_pids | wc -l) >= 3)); }
	wait_for 10 three
	kill -INT "$pid"
	status=0
	wait "$pid" || status=$?
	assert_equal "$status" 130
	assert_no_process_left
}

# alive PID: PID is a process that has not exited (a zombie has).
alive() {
	local st
	st=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n $st && $st != Z ]]
}

@test "kill -9 of ltb-sample leaves no process it started" {
	control_record "$TMP/plan.jsonl" client_cmd='"curl -s \"$LTB_CONTROL_URL\" >/dev/null; sleep 300 & sleep 300"' runtime=100
	ltb-sample --plan "$TMP/plan.jsonl" --control-port 0 >"$TMP/out" 2>"$TMP/err" &
	pid=$!
	started $pid
	# ltb-sample, its satellite, the client's shell and its two sleeps.
	five() { (($(tagged_pids | wc -l) >= 5)); }
	wait_for 10 five
	sleep 0.2
	mapfile -t pids < <(tagged_pids)
	kill -KILL "$pid"
	for p in "${pids[@]}"; do
		wait_for 5 eval "! alive $p" || {
			ps -o pid,ppid,stat,cmd -p "$p" >&2
			fail "process $p outlived ltb-sample"
		}
	done
}

@test "a descendant that left the session is gone after the run" {
	control_record "$TMP/plan.jsonl" client_cmd="\"curl -s \\\"\$LTB_CONTROL_URL\\\" >/dev/null; setsid sleep 100 & echo \$! >$TMP/setsid.pid; sleep 0.5\""
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 0
	echo "$stderr" >&3
	p=$(cat "$TMP/setsid.pid")
	[[ -n $p ]]
	if alive "$p"; then
		ps -o pid,ppid,sid,stat,cmd -p "$p" >&2
		kill -KILL "$p"
		fail "the setsid'd sleep $p outlived the run"
	fi
	assert_no_process_left
}

# calibrate_and_run CMD: calibrate CMD, then a 4 s NoOp run at 500 sps at
# that calibration; 0 if both read 0.70 +- 0.05 and the start-up is apart.
calibrate_and_run() {
	local cmd=$1 out
	ltb-control calibrate --client-cmd "$cmd" --runtime 2 --control-port 0 \
		>"$TMP/cal.json" 2>"$TMP/cal.err" || { cat "$TMP/cal.err" >&3; return 1; }
	jq -c '{achieved_cpu}' "$TMP/cal.json" >&3
	jq -e '.achieved_cpu - 0.7 | fabs < 0.05' "$TMP/cal.json" >/dev/null || return 1
	out=$(ltb-control plan --client-cmd "$cmd" --calibration "$TMP/cal.json" \
		--sps 500 --runtime 4 --trace off | ltb-sample --plan - --control-port 0 2>/dev/null |
		jq -c 'select(.type == "result")') || return 1
	jq -c '{cpu_usage, startup_cpu, startup_time, program_time, clock_time, noise}' <<<"$out" >&3
	jq -e '(.cpu_usage - 0.7 | fabs < 0.05) and (.startup_cpu - 0.5 | fabs < 0.1) and
		.startup_time >= 0.5 and (.clock_time - 4 | fabs < 0.4)' <<<"$out" >/dev/null
}

@test "start-up CPU before the fetch is kept apart: calibration and runs measure the window" {
	skip_if_sanitized "the CPU a calibration lands on"
	# A timing test on a shared machine: a second chance when other
	# processes took the CPU (the figures go to the test's output).
	cmd="burn 0.5 $LTB_ROOT/clients/c/run"
	calibrate_and_run "$cmd" || calibrate_and_run "$cmd"
}

@test "the output ends with a plan_end, also when ltb-sample is stopped mid-plan" {
	control_record "$TMP/p1"
	control_record "$TMP/p2" client_cmd='"curl -s \"$LTB_CONTROL_URL\" >/dev/null; sleep 300"' runtime=100 trial=1
	control_record "$TMP/p3" trial=2
	cat "$TMP/p1" >"$TMP/plan.jsonl"
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 0
	assert_success
	jq -e 'select(.type == "plan_end") | .planned == 1 and .runs == 1 and
	    .failed == 0 and .complete == true' <<<"$output"
	[ "$(tail -n 1 <<<"$output" | jq -r .type)" = plan_end ]
	cat "$TMP/p1" "$TMP/p2" "$TMP/p3" >"$TMP/plan.jsonl"
	ltb-sample --plan "$TMP/plan.jsonl" --control-port 0 >"$TMP/out" 2>"$TMP/err" &
	pid=$!
	two_runs() { grep -q 'run 1/3' "$TMP/err" && (($(tagged_pids | wc -l) >= 3)); }
	wait_for 20 two_runs
	sleep 0.5
	kill -TERM "$pid"
	status=0
	wait "$pid" || status=$?
	assert_equal "$status" 143
	tail -n 1 "$TMP/out" | jq -e '.type == "plan_end" and .planned == 3 and
	    .runs == 1 and .complete == false and .why == "interrupted by Terminated" and
	    .missing == ["c NoOp 100 sps trial 1", "c NoOp 100 sps trial 2"]'
	run ltb-assert --max-cpu 2 "$TMP/out"
	assert_failure 1
	assert_line --partial "FAIL plan: the plan did not finish: 1 of 3 planned runs (interrupted by Terminated; missing: c NoOp 100 sps trial 1, c NoOp 100 sps trial 2)"
	assert_no_process_left
}

@test "a client that never fetches fails its run and every gate over it" {
	control_record "$TMP/t" client_cmd='"exit 0"' Trace=true Repeat=1000 target_sps=1000
	control_record "$TMP/n" client_cmd='"exit 0"' Repeat=1000 target_sps=1000
	cat "$TMP/t" "$TMP/n" >"$TMP/plan.jsonl"
	ltb-sample --plan "$TMP/plan.jsonl" --control-port 0 >"$TMP/out" 2>/dev/null || true
	run --separate-stderr ltb-assert --max-overhead 0.10 --min-throughput 3000 \
		--at-overhead 0.10 --max-cpu 0.8 "$TMP/out"
	assert_failure 1
	run jq -r '"\(.gate) \(.pass)"' <<<"$output"
	assert_output "$(printf '%s\n' 'plan false' 'max-overhead false' \
		'min-throughput false' 'max-cpu false')"
}

# A client that reports by hand with mkreport: 50 spans twice and 10
# invalid ones (110 in all), to $LTB_PATH (default the LightStep reports
# path) of the first satellite, and says it sent $CLAIM.
reporting_client() {
	cat >"$TMP/client.sh" <<SH
msg=\$(curl -s "\$LTB_CONTROL_URL")
port=\$(echo "\$msg" | jq '.SatellitePorts[0]')
url=http://127.0.0.1:\$port${1:-/api/v2/reports}
mk=$LTB_ROOT/${LTB_BUILD:-build}/tests/tools/mkreport
\$mk --spans 50 --duplicates 1 | curl -s --data-binary @- "\$url" -o /dev/null
\$mk --spans 10 --seed 7 --invalid no_operation | curl -s --data-binary @- "\$url" -o /dev/null
echo '{"type":"client","spans_sent":${2:-110},"dropped":0}'
SH
	control_record "$TMP/plan.jsonl" client_cmd="\"sh $TMP/client.sh\"" Trace=true Repeat=110
}

@test "spans that arrive twice or invalid are counted apart, and dropped" {
	reporting_client
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 0
	assert_success
	run jq -c '{spans_sent, spans_sent_from, spans_received, spans_duplicate, spans_invalid,
	    invalid: .invalid_by_reason.no_operation, dropped, error}' <<<"$(results)"
	assert_output '{"spans_sent":110,"spans_sent_from":"client","spans_received":110,"spans_duplicate":50,"spans_invalid":10,"invalid":10,"dropped":60,"error":null}'
	run ltb-assert --max-invalid 0 <<<"$(ltb-sample --plan "$TMP/plan.jsonl" --control-port 0 2>/dev/null)"
	assert_failure 1
	assert_line --partial "FAIL max-invalid: 10 > 0"
}

@test "a client reporting to a path no protocol serves fails naming the path" {
	reporting_client /api/v2/spans
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 0
	assert_failure 1
	run jq -r .error <<<"$(results)"
	assert_output --partial "2 requests to paths no protocol serves"
	assert_output --partial "/api/v2/spans 2 (Zipkin, which ltb does not serve)"
}

@test "a client that claims more spans than it was asked for fails its run" {
	reporting_client /api/v2/reports 500
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 0
	assert_failure 1
	run jq -r .error <<<"$(results)"
	assert_output "the client says it sent 500, more than the Repeat of 110 it was asked for"
	control_record "$TMP/plan.jsonl" client_cmd='"curl -s \"$LTB_CONTROL_URL\" >/dev/null; echo \"{\\\"type\\\":\\\"client\\\", broken\""'
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 0
	assert_failure 1
	run jq -r .error <<<"$(results)"
	assert_output --partial "the client's summary line is not valid JSON"
}

@test "a chatty client's output reaches stderr bounded, its tail kept" {
	control_record "$TMP/plan.jsonl" client_cmd='"curl -s \"$LTB_CONTROL_URL\" >/dev/null; seq 1 200000; echo last-line"'
	run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 0
	assert_success
	(( ${#stderr} < 8000 ))
	[[ $stderr == *"bytes of the client's output not shown; its last 4096 bytes:"* ]]
	[[ $stderr == *"last-line"* ]]
}

@test "--protocol otlp: the C client's every span sent is received" {
	run --separate-stderr ltb-sample --client c --protocol otlp --trace --sps 200 \
		--runtime 3 --control-port 0
	assert_success
	run jq -r '[.spans_sent, .spans_received, .spans_invalid, .dropped, .error] | @tsv' <<<"$(results)"
	assert_output "$(printf '600\t600\t0\t0\t')"
}

@test "--protocol, --tls and --tls-ca flow into the control records; an unknown protocol is exit 2" {
	run ltb-control plan --client c --sps 100 --runtime 1 --protocol otlp
	assert_success
	run jq -r '[.Protocol, .Tls, .TlsCaFile] | @tsv' <<<"$output"
	assert_output "$(printf 'otlp\tfalse\t')"
	touch "$TMP/ca.pem"
	cd "$TMP"
	run ltb-control plan --client c --sps 100 --runtime 1 --tls-ca ca.pem
	assert_success
	run jq -r '[.Protocol, .Tls, .TlsCaFile] | @tsv' <<<"$output"
	assert_output "$(printf 'lightstep\ttrue\t%s' "$TMP/ca.pem")"
	run ltb-control plan --client c --sps 100 --runtime 1 --tls
	jq -e '.Tls == true and .TlsCaFile == null' <<<"$output"
	run ltb-control plan --client c --tls-ca "$TMP/no-such.pem"
	assert_failure 2
	assert_line --partial "bad --tls-ca '$TMP/no-such.pem'"
	for tool in "ltb-control plan" ltb-sample; do
		run $tool --client c --protocol zipkin --control-port 0
		assert_failure 2
		assert_line "${tool%% *}: bad --protocol: unknown protocol 'zipkin' (known: lightstep, otlp, spectatord, atlas, osprofiler)"
	done
}

@test "an https:// --satellites URL tells the clients Tls, and asks the admin API over http" {
	# A plain satellite: the client's TLS handshake is what it sees.
	start_satellite
	run --separate-stderr ltb-sample --client c --trace --sps 100 --runtime 1 \
		--satellites "https://${SAT_ADMIN#http://}" --control-port 0
	assert_failure 1
	run jq -r '[.spans_sent, .spans_received, .error] | @tsv' <<<"$(results)"
	assert_output --partial "$(printf '100\t0\t')"
	assert_output --partial "is the client speaking TLS"
}

@test "a plain client sent to TLS satellites is told so: the handshakes that failed" {
	start_satellite --tls
	run --separate-stderr ltb-sample --client c --trace --sps 100 --runtime 1 \
		--satellites "$SAT_ADMIN" --control-port 0
	assert_failure 1
	run jq -r '[.spans_sent, .spans_received, .error] | @tsv' <<<"$(results)"
	assert_output --partial "$(printf '100\t0\t')"
	assert_output --partial "failed the TLS handshake: they serve TLS (--tls)"
}

@test "--tls: the C client reports over TLS to a satellite started with --tls" {
	ltb-satellite --help | grep -q -- '--tls' || skip "ltb-satellite has no --tls yet"
	run --separate-stderr ltb-sample --client c --tls --trace --sps 200 --runtime 3 \
		--control-port 0
	assert_success
	run jq -r '[.spans_sent, .spans_received, .spans_invalid, .dropped, .error] | @tsv' <<<"$(results)"
	assert_output "$(printf '600\t600\t0\t0\t')"
}

@test "--tls: clients are told to verify the certificate of the group ltb-sample started" {
	# The client here only keeps the control message it was sent; the
	# plan comes from a calibration written out, so nothing calibrates.
	cat >"$TMP/keep-control" <<-'SH'
	#!/bin/sh
	curl -sS "$LTB_CONTROL_URL" >"$KEEP"
	echo '{"type":"client","spans_sent":10,"dropped":0}'
	SH
	chmod +x "$TMP/keep-control"
	echo '{"type":"calibration","v":1,"client":"cmd","target_cpu":0.7,"sleep_per_work_ns":1,"work_per_second":1000000,"achieved_cpu":0.7,"host":"x","created":"2026-12-01T00:00:00Z"}' >"$TMP/cal.json"
	plan() {
		ltb-control plan --client-cmd "$TMP/keep-control" --calibration "$TMP/cal.json" \
			--sps 10 --runtime 1 --trace off "$@"
	}
	plan --tls >"$TMP/plan.jsonl"
	KEEP=$TMP/ctl.json run --separate-stderr ltb-sample --plan "$TMP/plan.jsonl" --control-port 0
	run jq -r '[.Tls, (.TlsCaFile | test("/ltb-sample[.][^/]+/cert[.]pem$"))] | @tsv' "$TMP/ctl.json"
	assert_output "$(printf 'true\ttrue')"
	# The certificate was the satellites' and went with them.
	[ ! -e "$(jq -r .TlsCaFile "$TMP/ctl.json")" ]
	# A CA file of the plan's own is kept.
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
		-subj /CN=x -keyout "$TMP/k.pem" -out "$TMP/ca.pem" 2>/dev/null
	plan --tls-ca "$TMP/ca.pem" >"$TMP/plan2.jsonl"
	KEEP=$TMP/ctl2.json run --separate-stderr ltb-sample --plan "$TMP/plan2.jsonl" --control-port 0
	run jq -r .TlsCaFile "$TMP/ctl2.json"
	assert_output "$TMP/ca.pem"
}

# --- metrics clients ---------------------------------------------------------

# metrics_client NAME PROTOCOL: a registered client (LTB_CLIENTS_DIR) whose
# protocol file names PROTOCOL, with a calibration in the cache so nothing
# calibrates. Its run is a real process: it fetches its control message
# with curl and keeps it in $TMP/NAME.json; traced, it is told UDP ports
# and a unix socket by the satellites ltb-sample started (or it fails),
# and sends one spectatord line a datagram (bash's /dev/udp: a connected
# socket each) to the first port, Repeat of them; then it prints its
# summary line.
metrics_client() {
	local dir=$TMP/clients/$1
	mkdir -p "$dir"
	printf '%s\n' "$2" >"$dir/protocol"
	cat >"$dir/run" <<-EOF
	#!/bin/bash
	set -u
	msg=\$(curl -sS "\$LTB_CONTROL_URL") || exit 3
	printf '%s\n' "\$msg" >"$TMP/$1.json"
	n=\$(jq .Repeat <<<"\$msg")
	if [[ \$(jq .Trace <<<"\$msg") == true ]]; then
		port=\$(jq -r '.SatelliteUdpPorts[0] // empty' <<<"\$msg")
		sock=\$(jq -r '.SatelliteUnixSocket // empty' <<<"\$msg")
		[[ -n \$port ]] || { echo "no SatelliteUdpPorts" >&2; exit 1; }
		[[ -S \$sock ]] || { echo "SatelliteUnixSocket '\$sock' is no socket" >&2; exit 1; }
		for ((i = 0; i < n; i++)); do
			printf 'c:ltb.test,i=%d:1\n' "\$i" >/dev/udp/127.0.0.1/"\$port"
		done
	fi
	printf '{"type":"client","spans_sent":%d,"dropped":0,"tracer":"shell"}\n' "\$n"
	EOF
	chmod +x "$dir/run"
	export LTB_CLIENTS_DIR=$TMP/clients
	mkdir -p "$LTB_CACHE_DIR"
	jq -nc --arg c "$1" --arg host "$(hostname)" '{type:"calibration",v:1,
		client:$c,target_cpu:0.7,sleep_per_work_ns:1,work_per_second:1e8,
		achieved_cpu:0.7,iterations:1,host:$host,created:"test"}' \
		>"$LTB_CACHE_DIR/calibration-$1-0.70-$(hostname).json"
}

@test "a metrics client's run counts measurements: the client is told the UDP ports and unix socket of the satellites ltb-sample started" {
	metrics_client spec spectatord
	run --separate-stderr ltb-sample --client spec --trace --sps 50 --runtime 1 \
		--control-port 0
	assert_success
	said=$stderr
	run jq -r '[.unit, .spans_sent, .spans_received, .dropped, .error] | @tsv' <<<"$(results)"
	assert_output "$(printf 'measurement\t50\t50\t0\t')"
	[[ $said == *"spec traced 50 sps 1 s trial 0: cpu "*", 50/50 measurements, 0 dropped"* ]]
	run jq -c '[.Protocol, (.SatelliteUdpPorts | length), (.SatelliteUnixSocket | test("/ltb-sample[.][^/]+/ltb-sat-[0-9]+[.]sock$"))]' "$TMP/spec.json"
	assert_output '["spectatord",8,true]'
	# the socket and its directory went with the satellites
	sock=$(jq -r .SatelliteUnixSocket "$TMP/spec.json")
	[ ! -e "$sock" ]
	[ ! -e "$(dirname "$sock")" ]
}

@test "a burst the satellites could not read in time is socket loss in the result, not data the client never sent" {
	# The client sends its burst while the satellites' process is
	# stopped, as a satellite busy elsewhere would be: the kernel drops
	# what its receive buffer cannot hold.
	start_satellite --udp 0
	local dir=$TMP/clients/burst
	mkdir -p "$dir"
	printf 'spectatord\n' >"$dir/protocol"
	cat >"$dir/run" <<-EOF
	#!/bin/bash
	set -u
	msg=\$(curl -sS "\$LTB_CONTROL_URL") || exit 3
	port=\$(jq -r '.SatelliteUdpPorts[0]' <<<"\$msg")
	n=\$(jq .Repeat <<<"\$msg")
	kill -STOP $SAT_PID
	dgramsend --udp "\$port" --count "\$n" 'c:burst:1' >$TMP/burst.json
	kill -CONT $SAT_PID
	printf '{"type":"client","spans_sent":%d,"dropped":0,"tracer":"shell"}\n' "\$n"
	EOF
	chmod +x "$dir/run"
	export LTB_CLIENTS_DIR=$TMP/clients
	mkdir -p "$LTB_CACHE_DIR"
	jq -nc --arg host "$(hostname)" '{type:"calibration",v:1,client:"burst",
		target_cpu:0.7,sleep_per_work_ns:1,work_per_second:1e8,achieved_cpu:0.7,
		iterations:1,host:$host,created:"test"}' \
		>"$LTB_CACHE_DIR/calibration-burst-0.70-$(hostname).json"
	run --separate-stderr ltb-sample --client burst --trace --sps 60000 --runtime 1 \
		--satellites "$SAT_ADMIN" --control-port 0
	echo "$stderr" >&3
	[ "$(jq .sent "$TMP/burst.json")" = 60000 ]
	out=$(results)
	jq -c '{spans_sent, spans_received, socket_drops, dropped}' <<<"$out" >&3
	jq -e '.unit == "measurement" and .socket_drops > 0 and
		.spans_received + .socket_drops == 60000 and
		.dropped == 60000 - .spans_received and
		(.socket_drops as $d | .accounting | contains("\($d) datagrams lost at the satellites'"'"' sockets"))' <<<"$out"
}

@test "a metrics client against a running group: the datagram sockets its /stats names, or a warning that it names none" {
	metrics_client spec spectatord
	start_satellite
	run --separate-stderr ltb-sample --client spec --trace off --sps 20 --runtime 1 \
		--satellites "$SAT_ADMIN" --control-port 0
	assert_success
	said=$stderr
	run jq -r '[.unit, .spans_sent, .spans_received, .error] | @tsv' <<<"$(results)"
	assert_output "$(printf 'measurement\t20\t\t')"
	if [[ $(sat_stat 'has("udp_ports")') == true ]]; then
		[[ $said != *"do not say which UDP ports"* ]]
		run jq -c .SatelliteUdpPorts "$TMP/spec.json"
		assert_output "$(sat_stat '.udp_ports' | jq -c .)"
	else
		[[ $said == *"ltb-sample: warning: the satellites at $SAT_ADMIN do not say which UDP ports or unix socket they serve"* ]]
		run jq -c '[.SatelliteUdpPorts, .SatelliteUnixSocket]' "$TMP/spec.json"
		assert_output '[[],null]'
	fi
}

@test "a tracer's run neither warns of datagram sockets nor counts anything but spans" {
	start_satellite
	run --separate-stderr ltb-sample --client c --trace --sps 100 --runtime 1 \
		--satellites "$SAT_ADMIN" --control-port 0
	assert_success
	[[ $stderr != *"UDP ports"* ]]
	[[ $stderr == *", 100/100 spans, 0 dropped"* ]]
	run jq -r .unit <<<"$(results)"
	assert_output span
}

@test "ltb-sample takes a client's protocol from its file; a bad file is exit 2 before any run" {
	metrics_client spec spectatord
	printf 'spectatord\nzipkin\n' >"$TMP/clients/spec/protocol"
	run --separate-stderr ltb-sample --client spec --trace off --sps 20 --runtime 1 --control-port 0
	assert_failure 2
	[[ ${stderr%%$'\n'*} == "ltb-sample: $TMP/clients/spec/protocol:2: a second protocol (line 1 named one): the file names one" ]]
	[ ! -e "$TMP/spec.json" ]
	printf 'atlas\n' >"$TMP/clients/spec/protocol"
	start_satellite
	run --separate-stderr ltb-sample --client spec --trace off --sps 20 --runtime 1 \
		--satellites "$SAT_ADMIN" --control-port 0 --meters gauge --line-buffer 1400
	assert_success
	run jq -r .unit <<<"$(results)"
	assert_output measurement
	run jq -c '[.Protocol, .Meters, .LineBufferBytes]' "$TMP/spec.json"
	assert_output '["atlas",["gauge"],1400]'
}

@test "each run's progress line carries an ETA of the rest of the plan: it falls, and is the runs left and their overhead" {
	# Mixed runtimes: the ETA is the runs left's own runtimes, not the
	# last run's times the runs left (a run lasts Repeat / target_sps;
	# runtime says so).
	control_record "$TMP/p1" runtime=1.5 Repeat=150
	control_record "$TMP/p2" runtime=1 Repeat=100 trial=1
	control_record "$TMP/p3" runtime=0.5 Repeat=50 trial=2
	cat "$TMP/p1" "$TMP/p2" "$TMP/p3" >"$TMP/plan.jsonl"
	# Each stderr line stamped with when it came, to hold the ETA to
	# what the rest of the plan took.
	{ ltb-sample --plan "$TMP/plan.jsonl" --control-port 0 2>&1 >"$TMP/out"; } |
		while IFS= read -r line; do
			printf '%s %s\n' "$(date +%s.%N)" "$line"
		done >"$TMP/err"
	assert_equal "${PIPESTATUS[0]}" 0
	ended=$(date +%s)
	grep 'run [0-9]/3' "$TMP/err" >"$TMP/lines" || true
	cat "$TMP/lines"
	assert_equal "$(wc -l <"$TMP/lines")" 3
	# the seconds of each line's "eta 1m05s (ends ~HH:MM)", and when it came
	etas=() at=()
	while read -r t line; do
		[[ $line =~ \;\ eta\ (([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?\ \(ends\ ~([0-9]{2}):([0-9]{2})\)$ ]] ||
			fail "no eta at the end of: $line"
		etas+=($((10#${BASH_REMATCH[2]:-0} * 3600 + 10#${BASH_REMATCH[4]:-0} * 60 + 10#${BASH_REMATCH[6]:-0})))
		at+=("$t")
		ends_hm=$((10#${BASH_REMATCH[7]} * 60 + 10#${BASH_REMATCH[8]}))
		# the clock time it names is within a minute of the plan's end
		now_hm=$(date -d "@$ended" +%H:%M | awk -F: '{ print $1 * 60 + $2 }')
		diff=$(( (ends_hm - now_hm + 1440) % 1440 ))
		((diff <= 1 || diff >= 1439)) || fail "ends $ends_hm, ended $now_hm: $line"
	done <"$TMP/lines"
	took=$(awk -v a="${at[0]}" -v b="${at[2]}" 'BEGIN { printf "%.2f", b - a }')
	echo "etas: ${etas[*]}; the last two runs took $took s"
	# It falls, run by run, to 0 at the last.
	((etas[0] > etas[1] && etas[1] > etas[2] && etas[2] == 0))
	# At least the runtimes left (1 + 0.5 s after the first, 0.5 after
	# the second, rounded), at most those and a few seconds a run.
	((etas[0] >= 2 && etas[0] <= 2 + 2 * 5))
	((etas[1] >= 1 && etas[1] <= 1 + 5))
	# and near what the last two runs took: the first run's overhead
	# stands for theirs
	awk -v e="${etas[0]}" -v t="$took" 'BEGIN { exit !(e - t <= 1.5 && t - e <= 1.5) }'
}
