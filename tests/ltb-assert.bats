#!/usr/bin/env bats
# ltb-assert: gates over hand-made result files in tests/fixtures/assert/.
#
#   cpu.jsonl           500 sps, 3 NoOp (~0.70) and 3 traced (0.759..0.771)
#                       runs, after a calibration and a control record
#   throughput.jsonl    overhead 0.03, 0.06, 0.09, 0.15 at 1000..8000 sps
#   dropped.jsonl       traced runs at 100 and 300 sps, nothing dropped
#   dropped-some.jsonl  12 of 9000 spans dropped at 300 sps
#   memory.jsonl        traced runs of 5 s (3.0 MiB) and 100 s (4.0 MiB)
#   failed.jsonl        a traced run whose client exited with status 1
#   cost*.jsonl         paired plans of known cost per span (see mkcost)
#   bmf-check           checks a --bmf file against the run's verdicts

load test_helper

LTB_NOT_IN_FRESH_ROOT="gates over fixture records need nothing a fresh machine lacks; run on the normal and sanitizer builds"

FX=$BATS_TEST_DIRNAME/fixtures/assert

@test "max-cpu passes under the limit and names the worst run" {
	run --separate-stderr ltb-assert --max-cpu 0.8 "$FX/cpu.jsonl"
	assert_success
	[ "${stderr_lines[0]}" = "ltb-assert: PASS plan: 6 of 6 planned runs, none failed" ]
	[ "${stderr_lines[1]}" = "ltb-assert: PASS max-cpu: 0.771 <= 0.8 (worst: c traced 500 sps trial 1)" ]
	jq -e '.type == "verdict" and .v == 1 and .gate == "max-cpu" and
	    .value == 0.771 and .limit == 0.8 and .pass == true and
	    .detail == "worst: c traced 500 sps trial 1"' <<<"$output"
}

@test "max-cpu fails over the limit" {
	run --separate-stderr ltb-assert --max-cpu 0.77 "$FX/cpu.jsonl"
	assert_failure 1
	[[ ${stderr_lines[1]} == "ltb-assert: FAIL max-cpu: 0.771 > 0.77 "* ]]
	jq -e '.pass == false' <<<"$output"
}

@test "max-overhead passes with a confidence interval and CPU-ns per span" {
	run --separate-stderr ltb-assert --max-overhead 0.1 "$FX/cpu.jsonl"
	assert_success
	[[ ${stderr_lines[1]} == "ltb-assert: PASS max-overhead: 0.063 <= 0.1 "* ]]
	[[ $stderr == *"95% CI 0.0506586 to 0.0753414"* ]]
	jq -e '.gate == "max-overhead" and (.rates | length) == 1 and
	    .rates[0].target_sps == 500 and .rates[0].traced_runs == 3 and
	    .rates[0].noop_runs == 3 and (.rates[0].ci95 | length) == 2 and
	    (.rates[0].ns_per_span | round) == 126151' <<<"$output"
}

@test "max-overhead fails when the tracer costs too much" {
	run --separate-stderr ltb-assert --max-overhead 0.1 "$FX/throughput.jsonl"
	assert_failure 1
	[[ ${stderr_lines[1]} == "ltb-assert: FAIL max-overhead: 0.15 > 0.1 (worst at 8000 sps"* ]]
	jq -e '.pass == false and (.rates | length) == 4' <<<"$output"
}

@test "max-overhead says when one run on a side leaves the interval unknown" {
	run --separate-stderr ltb-assert --max-overhead 0.1 "$FX/dropped.jsonl"
	assert_success
	[[ $stderr == *"95% CI unknown: one run on a side"* ]]
	jq -e '.rates[0].ci95 == null and .rates[0].df == null' <<<"$output"
}

@test "max-dropped passes when nothing is dropped" {
	run --separate-stderr ltb-assert --max-dropped 0 "$FX/dropped.jsonl"
	assert_success
	[[ ${stderr_lines[1]} == "ltb-assert: PASS max-dropped: 0 <= 0"* ]]
}

@test "max-dropped fails when spans are dropped" {
	run --separate-stderr ltb-assert --max-dropped 0 "$FX/dropped-some.jsonl"
	assert_failure 1
	[ "${stderr_lines[1]}" = "ltb-assert: FAIL max-dropped: 12 > 0 (worst: c traced 300 sps trial 0)" ]
	jq -e '.value == 12 and .pass == false' <<<"$output"
}

@test "max-dropped-ratio passes and fails on the share dropped" {
	run --separate-stderr ltb-assert --max-dropped-ratio 0.01 "$FX/dropped-some.jsonl"
	assert_success
	[[ $stderr == *"12 of 9000 spans dropped"* ]]
	run --separate-stderr ltb-assert --max-dropped-ratio 0.001 "$FX/dropped-some.jsonl"
	assert_failure 1
	[[ ${stderr_lines[1]} == "ltb-assert: FAIL max-dropped-ratio: 0.00133333 > 0.001"* ]]
}

@test "max-memory-growth passes and fails on longest over shortest run" {
	run --separate-stderr ltb-assert --max-memory-growth 2 "$FX/memory.jsonl"
	assert_success
	[[ ${stderr_lines[1]} == "ltb-assert: PASS max-memory-growth: 1.3299 <= 2 (worst at 500 sps: 3.0 MiB after 5 s, 4.0 MiB after 100 s)" ]]
	jq -e '.rates[0].short_runtime == 5 and .rates[0].long_runtime == 100' <<<"$output"
	run --separate-stderr ltb-assert --max-memory-growth 1.2 "$FX/memory.jsonl"
	assert_failure 1
	[[ ${stderr_lines[1]} == "ltb-assert: FAIL max-memory-growth: 1.3299 > 1.2"* ]]
}

@test "max-memory-growth without two runtimes is a usage error" {
	run ltb-assert --max-memory-growth 2 "$FX/dropped.jsonl"
	assert_failure 2
	assert_output --partial "needs results with two runtimes"
}

@test "min-throughput passes when the overhead limit lies beyond it" {
	run --separate-stderr ltb-assert --min-throughput 3000 --at-overhead 0.1 "$FX/throughput.jsonl"
	assert_success
	[ "${stderr_lines[1]}" = "ltb-assert: PASS min-throughput: 4655.45 >= 3000 sps (overhead exceeds 0.1 between 3994.5 sps (0.09) and 7960.2 sps (0.15))" ]
	jq -e '.gate == "min-throughput" and .at_overhead == 0.1 and
	    .reached == true and (.value | floor) == 4655' <<<"$output"
}

@test "min-throughput fails when the overhead limit comes first" {
	run --separate-stderr ltb-assert --min-throughput 5000 --at-overhead 0.1 "$FX/throughput.jsonl"
	assert_failure 1
	[[ ${stderr_lines[1]} == "ltb-assert: FAIL min-throughput: 4655.45 < 5000 sps"* ]]
}

@test "min-throughput never crossed reports the highest rate measured" {
	run --separate-stderr ltb-assert --min-throughput 3000 --at-overhead 0.2 "$FX/throughput.jsonl"
	assert_success
	[[ $stderr == *"not reached at the highest rate measured, 7960.2 sps"* ]]
	jq -e '.reached == false and .value == 7960.2' <<<"$output"
	run --separate-stderr ltb-assert --min-throughput 9000 --at-overhead 0.2 "$FX/throughput.jsonl"
	assert_failure 1
}

@test "expect passes and fails, one verdict each" {
	run --separate-stderr ltb-assert --expect 'exit_status == 0' \
		--expect "client == 'c'" --expect 'cpu_usage < 0.75' "$FX/cpu.jsonl"
	assert_failure 1
	[ "${#lines[@]}" -eq 4 ]
	[[ $stderr == *"PASS expect exit_status == 0: holds for all 6 runs"* ]]
	[[ $stderr == *"PASS expect client == 'c': holds for all 6 runs"* ]]
	[[ $stderr == *"FAIL expect cpu_usage < 0.75: fails for 3 of 6 runs (first: c traced 500 sps trial 0 has cpu_usage 0.764)"* ]]
	jq -se '[.[].pass] == [true, true, true, false] and .[3].value == 0.764 and
	    .[3].limit == 0.75 and .[2].limit == "c"' <<<"$output"
}

@test "a bad expect expression is a usage error" {
	run ltb-assert --expect 'cpu_usage ~ 1' "$FX/cpu.jsonl"
	assert_failure 2
	assert_line --index 0 --partial "ltb-assert: bad --expect 'cpu_usage ~ 1':"
}

@test "a failed run fails the gate, with its error in the detail" {
	run --separate-stderr ltb-assert --max-cpu 0.8 "$FX/failed.jsonl"
	assert_failure 1
	[[ ${stderr_lines[1]} == "ltb-assert: FAIL max-cpu: 1 of 2 runs failed (c traced 500 sps trial 1: client 'c' exited with status 1 after 0.3 s"* ]]
	jq -e '.pass == false and .failed_runs == 1 and
	    (.detail | contains("exited with status 1")) and
	    .first_failed.error == "client '"'c'"' exited with status 1 after 0.3 s"' <<<"$output"
	run ltb-assert --max-overhead 0.5 "$FX/failed.jsonl"
	assert_failure 1
}

@test "results are read from stdin, and from - among files" {
	run --separate-stderr ltb-assert --max-cpu 0.8 <"$FX/cpu.jsonl"
	assert_success
	run --separate-stderr ltb-assert --max-dropped 0 "$FX/dropped.jsonl" - <"$FX/dropped-some.jsonl"
	assert_failure 1
	jq -e '.runs == 5 and .value == 12' <<<"$output"
}

@test "every verdict record is valid JSON, one line each" {
	run --separate-stderr ltb-assert --max-cpu 0.8 --max-overhead 0.1 \
		--max-dropped 0 --expect 'trace == true' "$FX/cpu.jsonl"
	[ "${#lines[@]}" -eq 5 ]
	for l in "${lines[@]}"; do
		jq -e '.type == "verdict" and .v == 1 and (.gate | type) == "string" and
		    has("value") and has("limit") and (.pass | type) == "boolean" and
		    (.detail | type) == "string"' <<<"$l"
	done
}

@test "--junit writes one testcase per gate and a failure for each that failed" {
	run ltb-assert --max-cpu 0.8 --max-dropped 0 --expect 'label == "<&>"' \
		--junit "$TMP/report.xml" "$FX/dropped-some.jsonl"
	assert_failure 1
	grep -q '^<?xml version="1.0" encoding="UTF-8"?>$' "$TMP/report.xml"
	grep -q '<testsuite name="ltb-assert" tests="4" failures="2"' "$TMP/report.xml"
	[ "$(grep -c '<testcase ' "$TMP/report.xml")" -eq 4 ]
	grep -q '<testcase classname="ltb-assert" name="plan">' "$TMP/report.xml"
	[ "$(grep -c '<failure ' "$TMP/report.xml")" -eq 2 ]
	grep -q 'name="expect label == &quot;&lt;&amp;&gt;&quot;"' "$TMP/report.xml"
	grep -q '<failure type="max-dropped" message="max-dropped: 12 &gt; 0 ' "$TMP/report.xml"
	[ "$(tail -n 1 "$TMP/report.xml")" = "</testsuite>" ]
	if command -v xmllint >/dev/null; then
		xmllint --noout "$TMP/report.xml"
	fi
}

@test "a JUnit file that cannot be written exits 3" {
	run ltb-assert --max-cpu 0.8 --junit "$TMP/no/such/dir/report.xml" "$FX/cpu.jsonl"
	assert_failure 3
	assert_line "ltb-assert: cannot write '$TMP/no/such/dir/report.xml': No such file or directory"
}

@test "empty input is an error, never a pass" {
	run ltb-assert --max-cpu 0.8 </dev/null
	assert_failure 2
	assert_output "ltb-assert: no result records in stdin: nothing to check"
}

@test "input without result records is an error" {
	run ltb-assert --max-cpu 0.8 "$FX/control-only.jsonl"
	assert_failure 2
	assert_output "ltb-assert: no result records in $FX/control-only.jsonl: nothing to check"
}

@test "a malformed line exits 2 naming the file and line" {
	run ltb-assert --max-cpu 0.8 "$FX/malformed.jsonl"
	assert_failure 2
	assert_output "ltb-assert: $FX/malformed.jsonl:3: not a JSON object"
}

@test "a result without the field a gate needs exits 2 naming it" {
	run ltb-assert --max-cpu 0.8 "$FX/no-cpu.jsonl"
	assert_failure 2
	assert_output "ltb-assert: $FX/no-cpu.jsonl:2: result has no \"cpu_usage\""
}

@test "bad input gives no verdicts at all" {
	run --separate-stderr ltb-assert --max-dropped 0 --max-cpu 0.8 "$FX/no-cpu.jsonl"
	assert_failure 2
	[ -z "$output" ]
}

@test "--help prints usage on stdout and exits 0" {
	run --separate-stderr ltb-assert --help
	assert_success
	[[ ${lines[0]} == "usage: ltb-assert "* ]]
	[[ $output == *"--min-throughput SPS"* ]]
	[[ $output == *"Exit: 0"* ]]
	[ -z "$stderr" ]
}

@test "bad flags exit 2 with usage on stderr" {
	run --separate-stderr ltb-assert --bogus
	assert_failure 2
	[ -z "$output" ]
	[[ $stderr == "ltb-assert: bad option '--bogus'"* ]]
	[[ $stderr == *"usage: ltb-assert"* ]]
	run ltb-assert --max-cpu lots "$FX/cpu.jsonl"
	assert_failure 2
	assert_line --index 0 "ltb-assert: bad --max-cpu 'lots': not a number >= 0"
	run ltb-assert --max-cpu 0.8 --max-cpu 0.9 "$FX/cpu.jsonl"
	assert_failure 2
	assert_line --index 0 "ltb-assert: --max-cpu given twice"
	run ltb-assert --max-cpu
	assert_failure 2
	assert_line --index 0 "ltb-assert: option '--max-cpu' needs a value"
}

@test "no gate is a usage error" {
	run ltb-assert "$FX/cpu.jsonl"
	assert_failure 2
	assert_line --index 0 "ltb-assert: no gate to check"
}

@test "min-throughput and at-overhead go together" {
	run ltb-assert --min-throughput 3000 "$FX/throughput.jsonl"
	assert_failure 2
	assert_line --index 0 "ltb-assert: --min-throughput needs --at-overhead"
	run ltb-assert --max-cpu 1 --at-overhead 0.1 "$FX/throughput.jsonl"
	assert_failure 2
}

@test "a missing input file exits 2" {
	run ltb-assert --max-cpu 0.8 "$TMP/nonexistent.jsonl"
	assert_failure 2
	assert_output "ltb-assert: cannot open '$TMP/nonexistent.jsonl': No such file or directory"
}

@test "a reader that goes away does not change the verdict" {
	run bash -c 'ltb-assert --max-cpu 0.8 --max-dropped 0 "$1" 2>/dev/null | head -c 0; echo "${PIPESTATUS[0]}"' _ "$FX/cpu.jsonl"
	assert_output "0"
}

# A good traced result from cpu.jsonl, changed by the jq expression $1.
broken_result() {
	grep '"type":"result"' "$FX/cpu.jsonl" | tail -n 1 | jq -c "$1"
}

@test "a result record of the wrong shape is exit 2 naming file and line, never a pass" {
	local change
	for change in '.exit_status = "1"' '.exit_status = true' 'del(.exit_status)' \
	    '.error = 5' '.error = {}' '.error = ""' '.cpu_usage = -0.5' '.v = 2' \
	    'del(.v)' '.trace = "yes"' '.spans_sent = 1.5'; do
		{ broken_result "$change"; echo '{"type":"plan_end","v":1,"planned":1,"runs":1,"failed":0,"complete":true}'; } >"$TMP/bad.jsonl"
		run ltb-assert --max-cpu 0.8 "$TMP/bad.jsonl"
		[ "$status" -eq 2 ] || fail "'$change' gave exit $status: $output"
		[[ $output == "ltb-assert: $TMP/bad.jsonl:1: "* ]] || fail "'$change': $output"
	done
	broken_result '.v = 2' >"$TMP/bad.jsonl"
	run ltb-assert --max-cpu 0.8 "$TMP/bad.jsonl"
	assert_output --partial "record is of version 2; this ltb reads version 1"
	broken_result '.exit_status = "1"' >"$TMP/bad.jsonl"
	run ltb-assert --max-cpu 0.8 "$TMP/bad.jsonl"
	assert_output "ltb-assert: $TMP/bad.jsonl:1: result's \"exit_status\" is \"1\", not a number"
}

@test "results without a plan_end are a failed plan, whatever the gates say" {
	grep '"type":"result"' "$FX/cpu.jsonl" >"$TMP/cut.jsonl"
	run --separate-stderr ltb-assert --max-cpu 0.8 "$TMP/cut.jsonl"
	assert_failure 1
	[ "${stderr_lines[0]}" = "ltb-assert: FAIL plan: no plan_end record after 6 results (the input was cut short: ltb-sample ends its output with a plan_end record, even when a run fails; did it die, or was its output cut (head, a failed tee)?)" ]
	[ "${stderr_lines[1]}" = "ltb-assert: PASS max-cpu: 0.771 <= 0.8 (worst: c traced 500 sps trial 1)" ]
	jq -se '.[0].gate == "plan" and .[0].pass == false and .[0].limit == null' <<<"$output"
}

@test "fewer results than planned fail the plan" {
	{ grep '"type":"result"' "$FX/cpu.jsonl" | head -n 4; grep plan_end "$FX/cpu.jsonl"; } >"$TMP/short.jsonl"
	run --separate-stderr ltb-assert --max-cpu 0.8 "$TMP/short.jsonl"
	assert_failure 1
	[[ ${stderr_lines[0]} == "ltb-assert: FAIL plan: 4 of 6 planned runs in the input "* ]]
}

@test "an incomplete plan fails naming the runs missing" {
	{ grep '"type":"result"' "$FX/cpu.jsonl" | head -n 1
	  echo '{"type":"plan_end","v":1,"planned":3,"runs":1,"failed":0,"complete":false,"why":"cannot reach the satellites","missing":["c traced 500 sps trial 1","c NoOp 500 sps trial 1"]}'; } >"$TMP/part.jsonl"
	run --separate-stderr ltb-assert --max-cpu 0.8 "$TMP/part.jsonl"
	assert_failure 1
	[ "${stderr_lines[0]}" = "ltb-assert: FAIL plan: the plan did not finish: 1 of 3 planned runs (cannot reach the satellites; missing: c traced 500 sps trial 1, c NoOp 500 sps trial 1)" ]
}

@test "a plan stopped by an inconclusive calibration is exit 4 and a JUnit error" {
	echo '{"type":"plan_end","v":1,"planned":0,"runs":0,"failed":0,"complete":false,"inconclusive":true,"why":"calibration inconclusive: the machine is busy"}' >"$TMP/inc.jsonl"
	run --separate-stderr ltb-assert --max-cpu 0.8 --junit "$TMP/j.xml" "$TMP/inc.jsonl"
	assert_failure 4
	[[ ${stderr_lines[0]} == "ltb-assert: INCONCLUSIVE plan: the plan did not finish: 0 of 0 planned runs (calibration inconclusive: the machine is busy"* ]]
	jq -e '.pass == "inconclusive"' <<<"$output"
	grep -q 'errors="1"' "$TMP/j.xml"
	grep -q '<error type="plan"' "$TMP/j.xml"
	! grep -q '<failure' "$TMP/j.xml"
}

@test "max-invalid passes and fails on spans that arrived invalid" {
	jq -c 'if .type == "result" and .trace then .spans_invalid = 0 else . end' "$FX/dropped.jsonl" >"$TMP/ok.jsonl"
	run ltb-assert --max-invalid 0 "$TMP/ok.jsonl"
	assert_success
	jq -c 'if .type == "result" and .trace and .target_sps == 300 then .spans_invalid = 10 | .invalid_by_reason = {"bad_span_id": 10} elif .type == "result" and .trace then .spans_invalid = 0 else . end' "$FX/dropped.jsonl" >"$TMP/bad.jsonl"
	run --separate-stderr ltb-assert --max-invalid 0 "$TMP/bad.jsonl"
	assert_failure 1
	[[ ${stderr_lines[1]} == "ltb-assert: FAIL max-invalid: 10 > 0 (worst: c traced 300 sps"* ]]
}

@test "a 3-run plan passes whole, and fails cut to its first run" {
	control_record "$TMP/p1"
	control_record "$TMP/p2" trial=1
	control_record "$TMP/p3" trial=2
	cat "$TMP/p1" "$TMP/p2" "$TMP/p3" >"$TMP/plan.jsonl"
	ltb-sample --plan "$TMP/plan.jsonl" --control-port 0 >"$TMP/out.jsonl" 2>/dev/null
	run ltb-assert --max-cpu 2 "$TMP/out.jsonl"
	assert_success
	head -n 1 "$TMP/out.jsonl" >"$TMP/head.jsonl"
	run ltb-assert --max-cpu 2 "$TMP/head.jsonl"
	assert_failure 1
	assert_line --partial "FAIL plan: no plan_end record after 1 result"
}

# The cost-per-span fixtures (tests/fixtures/assert/mkcost says how they
# were made): paired runs at 10000-40000 sps whose true cost is known.

@test "max-ns-per-span fits the cost per span with its interval and fixed cost" {
	run --separate-stderr ltb-assert --max-ns-per-span 2500 "$FX/cost.jsonl"
	assert_success
	[[ ${stderr_lines[1]} == "ltb-assert: PASS max-ns-per-span: 2028 ns/span, 95% CI 1950 to 2106, <= 2500 (OLS over 9 pairs; fixed cost 0.0184"* ]]
	jq -e 'select(.gate == "max-ns-per-span") | .pass == true and
	    (.value | round) == 2028 and (.ci95[0] | round) == 1950 and
	    (.ci95[1] | round) == 2106 and .method == "ols" and .pairs == 9 and
	    .resolved == true and .intercept_s > 0.013 and
	    .intercept_ci95[1] < 0.024 and .cost_per_span.df == 7' <<<"$output"
}

@test "max-ns-per-span fails only when the whole interval is above the limit" {
	run --separate-stderr ltb-assert --max-ns-per-span 2500 "$FX/cost-worse.jsonl"
	assert_failure 1
	[[ ${stderr_lines[1]} == "ltb-assert: FAIL max-ns-per-span: 2553 ns/span, 95% CI 2514 to 2592, > 2500 "* ]]
}

@test "max-ns-per-span is inconclusive when the interval holds the limit" {
	run --separate-stderr ltb-assert --junit "$BATS_TEST_TMPDIR/j.xml" \
	    --max-ns-per-span 2500 "$FX/cost-noisy.jsonl"
	assert_failure 4
	[[ ${stderr_lines[1]} == "ltb-assert: INCONCLUSIVE max-ns-per-span: 2718 ns/span, 95% CI 2119 to 3318, holds 2500 (the interval holds the limit: more pairs"* ]]
	jq -e 'select(.gate == "max-ns-per-span") | .pass == "inconclusive"' <<<"$output"
	grep -q '<error type="max-ns-per-span"' "$BATS_TEST_TMPDIR/j.xml"
	grep -q 'failures="0" errors="1"' "$BATS_TEST_TMPDIR/j.xml"
}

@test "a busy machine makes the per-span gates inconclusive, unless --max-noise 0" {
	run --separate-stderr ltb-assert --max-ns-per-span 2500 "$FX/cost-busy.jsonl"
	assert_failure 4
	[[ ${stderr_lines[1]} == *"the machine was busy: other processes and steal took 1.2 CPU on average"* ]]
	run --separate-stderr ltb-assert --max-noise 0 --max-ns-per-span 2500 "$FX/cost-busy.jsonl"
	assert_success
}

@test "max-ns-per-span needs pairs at two rates: an error, not a verdict" {
	run --separate-stderr ltb-assert --max-ns-per-span 2500 "$FX/cost-one-rate.jsonl"
	assert_failure 2
	[[ $stderr == *"--max-ns-per-span needs paired runs (test and base, e.g. traced and NoOp: plan --trace both) at 2 rates or more"* ]]
	[ -z "$output" ]
}

@test "max-overhead adds the cost per span to its verdict" {
	run --separate-stderr ltb-assert --max-overhead 0.1 "$FX/cost.jsonl"
	assert_success
	[[ ${stderr_lines[1]} == *"; 2028 ns/span (95% CI 1950 to 2106, OLS over 9 pairs))" ]]
	jq -e 'select(.gate == "max-overhead") | .cost_per_span.pairs == 9' <<<"$output"
	# one rate: no fit, and no claim of one
	run --separate-stderr ltb-assert --max-overhead 0.1 "$FX/cpu.jsonl"
	assert_success
	[[ ${stderr_lines[1]} != *"ns/span ("* ]]
}

@test "max-regression passes an A/A pair and a change under the limit" {
	run --separate-stderr ltb-assert --baseline "$FX/cost.jsonl" --max-regression 0.10 "$FX/cost-aa.jsonl"
	assert_success
	[[ ${stderr_lines[1]} == "ltb-assert: PASS max-regression: -2.0% (95% CI -7.4% to +3.6%) <= +10% (1987 ns/span against 2028 (-41 ns, 95% CI -153 to +72); cpu at 10000 "*"dropped 0 (baseline 0))" ]]
	jq -e 'select(.gate == "max-regression") | .pass == true and
	    (.change_ns | round) == -41 and (.ci95 | length) == 2 and
	    .baseline_cost_per_span.pairs == 9' <<<"$output"
	run ltb-assert --baseline "$FX/cost.jsonl" --max-regression 0.10 "$FX/cost-slight.jsonl"
	assert_success
}

@test "max-regression fails a resolved increase above the limit" {
	run --separate-stderr ltb-assert --baseline "$FX/cost.jsonl" --max-regression 0.10 "$FX/cost-worse.jsonl"
	assert_failure 1
	[[ ${stderr_lines[1]} == "ltb-assert: FAIL max-regression: +25.9% (95% CI +21.2% to +30.9%) > +10% "* ]]
}

@test "max-regression is inconclusive when an increase is not resolved" {
	run --separate-stderr ltb-assert --baseline "$FX/cost.jsonl" --max-regression 0.10 "$FX/cost-noisy.jsonl"
	assert_failure 4
	[[ ${stderr_lines[1]} == "ltb-assert: INCONCLUSIVE max-regression: +34.0% (95% CI +4.4% to +64.1%) above, not resolved, +10% (looks above the limit but is not resolved"* ]]
}

@test "max-regression refuses another machine's baseline unless allowed" {
	run --separate-stderr ltb-assert --baseline "$FX/cost-other.jsonl" --max-regression 0.10 "$FX/cost.jsonl"
	assert_failure 2
	[[ $stderr == *"not measured on the same machine (cpu_model \"Test CPU @ 2.0GHz\" here, \"Other CPU\" in the baseline): compare runs of one machine, or pass --allow-different-machine"* ]]
	run ltb-assert --allow-different-machine --baseline "$FX/cost-other.jsonl" --max-regression 0.10 "$FX/cost.jsonl"
	assert_success
}

@test "max-regression needs a whole baseline" {
	run ltb-assert --max-regression 0.1 "$FX/cost.jsonl"
	assert_failure 2
	assert_line --index 0 "ltb-assert: --max-regression needs --baseline FILE"
	head -n 5 "$FX/cost.jsonl" >"$BATS_TEST_TMPDIR/short.jsonl"
	run --separate-stderr ltb-assert --baseline "$BATS_TEST_TMPDIR/short.jsonl" --max-regression 0.1 "$FX/cost.jsonl"
	assert_failure 2
	[[ $stderr == *"baseline $BATS_TEST_TMPDIR/short.jsonl: not a whole plan (no plan_end record)"* ]]
	run ltb-assert --baseline "$FX/cost.jsonl" --max-cpu 1 "$FX/cost.jsonl"
	assert_failure 2
	assert_line --index 0 "ltb-assert: --baseline goes with --max-regression"
}

@test "the same plan's results given twice are an error, not twice the pairs" {
	run --separate-stderr ltb-assert --max-ns-per-span 2500 "$FX/cost.jsonl" "$FX/cost.jsonl"
	assert_failure 2
	[[ $stderr == *"two base runs for the pair of"*": give each plan's results once"* ]]
}

@test "max-regression does not pass on an interval too wide to decide" {
	run --separate-stderr ltb-assert --max-interval 0.02 --baseline "$FX/cost.jsonl" --max-regression 0.10 "$FX/cost-aa.jsonl"
	assert_failure 4
	[[ ${stderr_lines[1]} == *"(the interval is too wide to decide (+-5%, more than --max-interval 2%): more pairs"* ]]
	run ltb-assert --max-interval 0.06 --baseline "$FX/cost.jsonl" --max-regression 0.10 "$FX/cost-aa.jsonl"
	assert_success
}

# as_measurements FILE: its results as a metrics client's, counting
# measurements ("unit": "measurement"), on stdout.
as_measurements() {
	jq -c 'if .type == "result" then .unit = "measurement" | .client = "c-spectator" else . end' "$1"
}

@test "a metrics client's gates keep their meaning and say its unit" {
	as_measurements "$FX/dropped-some.jsonl" >"$TMP/dropped.jsonl"
	run --separate-stderr ltb-assert --max-dropped-ratio 0.001 "$TMP/dropped.jsonl"
	assert_failure 1
	[ "${stderr_lines[1]}" = "ltb-assert: FAIL max-dropped-ratio: 0.00133333 > 0.001 (worst: c-spectator traced 300 measurements/s trial 0, 12 of 9000 measurements dropped)" ]
	as_measurements "$FX/memory.jsonl" >"$TMP/memory.jsonl"
	run --separate-stderr ltb-assert --max-memory-growth 2 "$TMP/memory.jsonl"
	assert_success
	[ "${stderr_lines[1]}" = "ltb-assert: PASS max-memory-growth: 1.3299 <= 2 (worst at 500 measurements/s: 3.0 MiB after 5 s, 4.0 MiB after 100 s)" ]
	as_measurements "$FX/throughput.jsonl" >"$TMP/throughput.jsonl"
	run --separate-stderr ltb-assert --min-throughput 3000 --at-overhead 0.10 "$TMP/throughput.jsonl"
	assert_success
	[[ ${stderr_lines[1]} == "ltb-assert: PASS min-throughput: 4655.45 >= 3000 measurements/s (overhead exceeds 0.1 between 3994.5 measurements/s (0.09) and 7960.2 measurements/s (0.15))" ]]
	as_measurements "$FX/cost.jsonl" >"$TMP/cost.jsonl"
	run --separate-stderr ltb-assert --max-ns-per-span 3000 --max-overhead 0.5 --max-cpu 0.8 "$TMP/cost.jsonl"
	assert_success
	[[ ${stderr_lines[1]} == "ltb-assert: PASS max-ns-per-span: 2028 ns/measurement, 95% CI 1950 to 2106, <= 3000 (OLS over 9 pairs; "* ]]
	[[ ${stderr_lines[2]} == "ltb-assert: PASS max-overhead: 0.0874667 <= 0.5 (worst at 40000 measurements/s: "*", 2187 CPU-ns/measurement; 3 rates; 2028 ns/measurement (95% CI 1950 to 2106, OLS over 9 pairs))" ]]
	[[ ${stderr_lines[3]} == "ltb-assert: PASS max-cpu: 0.7889 <= 0.8 (worst: c-spectator traced 40000 measurements/s trial 2)" ]]
	jq -s -e 'map(select(.gate == "max-ns-per-span"))[0].cost_per_span.unit == "ns/measurement"' <<<"$output"
	# a tracer's are as they were
	run --separate-stderr ltb-assert --max-ns-per-span 3000 "$FX/cost.jsonl"
	[[ ${stderr_lines[1]} == "ltb-assert: PASS max-ns-per-span: 2028 ns/span, "* ]]
}

@test "results of two units, or a baseline of another unit, are exit 2 naming them" {
	as_measurements "$FX/cost.jsonl" >"$TMP/cost.jsonl"
	cat "$FX/cost.jsonl" >"$TMP/mixed.jsonl"
	head -n 1 "$TMP/cost.jsonl" >>"$TMP/mixed.jsonl"
	run --separate-stderr ltb-assert --max-cpu 0.8 "$TMP/mixed.jsonl"
	assert_failure 2
	[[ $stderr == *"ltb-assert: $TMP/mixed.jsonl:1 counts spans, $TMP/mixed.jsonl:20 measurements: judge one unit at a time (a tracer's runs or a metrics client's)"* ]]
	run --separate-stderr ltb-assert --max-regression 0.1 --baseline "$FX/cost.jsonl" "$TMP/cost.jsonl"
	assert_failure 2
	[[ $stderr == *"ltb-assert: the baseline $FX/cost.jsonl counts spans and this input measurements: compare runs of one unit"* ]]
}

# --bmf: the verdicts' figures as Bencher Metric Format. bmf-check (in the
# fixtures) checks the file's shape and that it holds exactly the figures
# of the verdict records the same run printed.

# bmf_matches CLIENT [UNIT]: $TMP/bmf.json against the verdicts in $output.
bmf_matches() {
	printf '%s\n' "$output" >"$TMP/verdicts.jsonl"
	"$FX/bmf-check" "$TMP/bmf.json" "$TMP/verdicts.jsonl" "$@"
}

@test "--bmf writes every gate's figure, with its interval where it has one" {
	run --separate-stderr ltb-assert --max-cpu 0.8 --max-overhead 0.1 \
		--max-dropped 0 --max-dropped-ratio 0.01 \
		--expect 'exit_status == 0' --bmf "$TMP/bmf.json" "$FX/cpu.jsonl"
	assert_success
	bmf_matches c
	jq -e '.["c/max-cpu"].cpu_usage == {"value": 0.771} and
	    (.["c/max-overhead/500sps"].cpu_overhead |
	     (.lower_value * 1e7 | round) == 506586 and
	     (.upper_value * 1e7 | round) == 753414 and
	     (.value * 1000 | round) == 63) and
	    .["c/max-dropped"].dropped_spans.value == 0 and
	    (keys | map(select(test("plan|expect"))) | length) == 0' "$TMP/bmf.json"
}

@test "--bmf writes the cost per span and fixed cost with their intervals" {
	run --separate-stderr ltb-assert --max-ns-per-span 2500 --max-overhead 0.1 \
		--bmf "$TMP/bmf.json" "$FX/cost.jsonl"
	assert_success
	bmf_matches c
	jq -e '(.["c/max-ns-per-span"].ns_per_span | (.value | round) == 2028 and
	     (.lower_value | round) == 1950 and (.upper_value | round) == 2106) and
	    .["c/max-ns-per-span"].fixed_cost_s.lower_value > 0.013 and
	    (.["c/max-overhead"].ns_per_span.value | round) == 2028 and
	    (keys | length) == 5' "$TMP/bmf.json"
}

@test "--bmf writes a failed or inconclusive verdict's figure: it was measured" {
	run --separate-stderr ltb-assert --max-cpu 0.77 --max-overhead 0.1 \
		--bmf "$TMP/bmf.json" "$FX/throughput.jsonl"
	assert_failure 1
	bmf_matches c
	jq -e '.["c/max-overhead"].cpu_overhead.value == 0.15' "$TMP/bmf.json"
	run --separate-stderr ltb-assert --baseline "$FX/cost.jsonl" --max-regression 0.10 \
		--bmf "$TMP/bmf.json" "$FX/cost-noisy.jsonl"
	assert_failure 4
	bmf_matches c
	jq -e '.["c/max-regression"] | (.relative_change.lower_value * 1000 | round) == 44 and
	    (.relative_change.value * 1000 | round) == 340 and
	    has("ns_per_span") and has("baseline_ns_per_span") and
	    has("ns_per_span_change")' "$TMP/bmf.json"
	run --separate-stderr ltb-assert --max-ns-per-span 2500 \
		--bmf "$TMP/bmf.json" "$FX/cost-noisy.jsonl"
	assert_failure 4
	bmf_matches c
}

@test "--bmf writes memory growth per rate and throughput at its overhead" {
	run --separate-stderr ltb-assert --max-memory-growth 2 --bmf "$TMP/bmf.json" "$FX/memory.jsonl"
	assert_success
	bmf_matches c
	jq -e '(.["c/max-memory-growth"].memory_growth.value * 1e4 | round) == 13299 and
	    has("c/max-memory-growth/500sps")' "$TMP/bmf.json"
	run --separate-stderr ltb-assert --min-throughput 3000 --at-overhead 0.10 \
		--bmf "$TMP/bmf.json" "$FX/throughput.jsonl"
	assert_success
	bmf_matches c
	jq -e '(.["c/min-throughput@0.1"].spans_per_second.value * 100 | round) == 465545 and
	    (keys | length) == 1' "$TMP/bmf.json"
}

@test "--bmf names a metrics client's measures in its unit" {
	as_measurements "$FX/cost.jsonl" >"$TMP/cost.jsonl"
	run --separate-stderr ltb-assert --max-ns-per-span 3000 --max-dropped 0 \
		--bmf "$TMP/bmf.json" "$TMP/cost.jsonl"
	assert_success
	bmf_matches c-spectator measurement
	jq -e '(.["c-spectator/max-ns-per-span"].ns_per_measurement.value | round) == 2028 and
	    .["c-spectator/max-dropped"].dropped_measurements.value == 0' "$TMP/bmf.json"
}

@test "--bmf leaves out a figure nobody measured: never a silent 0" {
	# every traced run failed: max-cpu and max-dropped have no figure
	jq -c 'if .type == "result" and .trace then .exit_status = 1 else . end' \
		"$FX/cpu.jsonl" >"$TMP/failed.jsonl"
	run --separate-stderr ltb-assert --max-cpu 0.8 --max-dropped 0 \
		--bmf "$TMP/bmf.json" "$TMP/failed.jsonl"
	assert_failure 1
	jq -s -e 'map(select(.gate == "max-cpu"))[0].value == null' <<<"$output"
	bmf_matches c
	jq -e '. == {}' "$TMP/bmf.json"
	# a plan cut short before any run: nothing measured, nothing written
	grep '"plan_end"' "$FX/cpu.jsonl" | jq -c '.runs = 0 | .complete = false |
	    .why = "stopped" | .missing = []' >"$TMP/none.jsonl"
	run --separate-stderr ltb-assert --max-cpu 0.8 --bmf "$TMP/bmf.json" "$TMP/none.jsonl"
	assert_failure 1
	jq -e '. == {}' "$TMP/bmf.json"
}

@test "--bmf: each run writes its own file whole; a file that cannot be written exits 3" {
	run ltb-assert --max-cpu 0.8 --bmf "$TMP/bmf.json" "$FX/cost.jsonl"
	assert_success
	run ltb-assert --max-dropped 0 --bmf "$TMP/bmf.json" "$FX/dropped.jsonl"
	assert_success
	jq -e 'keys == ["c/max-dropped"]' "$TMP/bmf.json"
	run --separate-stderr ltb-assert --max-cpu 0.8 --bmf "$TMP/no/such/dir/bmf.json" "$FX/cpu.jsonl"
	assert_failure 3
	[[ $stderr == *"ltb-assert: cannot write '$TMP/no/such/dir/bmf.json': No such file or directory"* ]]
	# the verdicts are still said
	jq -s -e 'map(select(.gate == "max-cpu"))[0].pass == true' <<<"$output"
	run ltb-assert --max-cpu 0.8 --bmf a.json --bmf b.json "$FX/cpu.jsonl"
	assert_failure 2
	assert_line --index 0 "ltb-assert: --bmf given twice"
	run ltb-assert --help
	[[ $output == *"--bmf FILE"* ]]
}

@test "README's jq merges several runs' BMF files and makes github-action-benchmark's array" {
	mkdir -p "$TMP/w/gates-out"
	cd "$TMP/w"
	ltb-assert --max-cpu 0.8 --max-overhead 0.1 --bmf gates-out/cpu.bmf.json "$FX/cpu.jsonl" >cpu.v
	ltb-assert --min-throughput 3000 --at-overhead 0.10 --bmf gates-out/throughput.bmf.json \
		"$FX/throughput.jsonl" >throughput.v
	# the README's commands, as it prints them
	sed -n '/^    jq -s .reduce/p' "$BATS_TEST_DIRNAME/../README.md" |
		sed 's/^    //' >merge.sh
	sed -n '/^    bmf2gab=/,/gab-bigger\.json$/p' "$BATS_TEST_DIRNAME/../README.md" |
		sed 's/^    //' >gab.sh
	[ -s merge.sh ] && [ -s gab.sh ]
	sh -e merge.sh
	cat cpu.v throughput.v >all.v
	"$FX/bmf-check" gates-out/bmf.json all.v c
	sh -e gab.sh
	# customSmallerIsBetter's and customBiggerIsBetter's input: an array
	# of {name, unit, value[, range]}; throughput alone is bigger-is-better
	jq -e 'type == "array" and length == 4 and
	    all(.[]; (.name | type) == "string" and (.unit | type) == "string" and
	        (.value | type) == "number") and
	    (map(select(.name == "c/max-overhead/500sps cpu_overhead"))[0] |
	     (.value * 1000 | round) == 63 and (.range | startswith("0.0506"))) and
	    all(.[]; (.unit | endswith("_per_second")) | not)' gab-smaller.json
	jq -e '. == [{"name": "c/min-throughput@0.1 spans_per_second",
	    "unit": "spans_per_second",
	    "value": (input | .["c/min-throughput@0.1"].spans_per_second.value)}]' \
		gab-bigger.json gates-out/bmf.json
}

@test "--bmf of a real run matches its verdicts" {
	local t tr
	for t in 0 1; do
		for tr in false true; do
			control_record "$TMP/p$t$tr" "Trace=$tr" trial=$t
		done
	done
	cat "$TMP"/p0false "$TMP"/p0true "$TMP"/p1false "$TMP"/p1true >"$TMP/plan.jsonl"
	ltb-sample --plan "$TMP/plan.jsonl" --control-port 0 >"$TMP/out.jsonl" 2>/dev/null
	run --separate-stderr ltb-assert --max-cpu 2 --max-overhead 2 --max-dropped 1000 \
		--max-dropped-ratio 1 --bmf "$TMP/bmf.json" "$TMP/out.jsonl"
	assert_success
	bmf_matches c
	jq -e '(keys | sort) == ["c/max-cpu", "c/max-dropped", "c/max-dropped-ratio",
	    "c/max-overhead", "c/max-overhead/100sps"] and
	    (.["c/max-overhead/100sps"].cpu_overhead | has("lower_value"))' "$TMP/bmf.json"
}
