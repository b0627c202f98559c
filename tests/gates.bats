#!/usr/bin/env bats
# .circleci/gates.sh: the four regression gates as pipelines of the real
# tools, at a small scale, with the C client.

load test_helper

LTB_NOT_UNDER_SANITIZER="its gates judge CPU figures, which the sanitizers' own cost moves; the plain stage runs them"
LTB_NOT_IN_FRESH_ROOT="make demo runs the same gates.sh there first"

setup_file() {
	export LTB_CACHE_DIR=$BATS_FILE_TMPDIR/cache
}

@test "the four gates pass for the C client at test scale" {
	run --separate-stderr "$LTB_ROOT/.circleci/gates.sh" -c c -s 0.05 -o "$TMP/out"
	echo "$stderr" >&3
	# One-second runs on a shared 2-core machine: a gate that failed on
	# noise gets one more try (its verdicts are in the output above); a
	# tool failure (exit 2 and up) gets none.
	if [[ $status -eq 1 ]]; then
		run --separate-stderr "$LTB_ROOT/.circleci/gates.sh" -c c -s 0.05 -o "$TMP/out"
		echo "$stderr" >&3
	fi
	assert_success
	for g in memory dropped cpu throughput; do
		[[ -s $TMP/out/$g.jsonl ]]
		grep -q '<testsuite' "$TMP/out/$g.xml"
	done
	run jq -r '"\(.gate) \(.pass)"' "$TMP"/out/{memory,dropped,cpu,throughput}.verdicts
	assert_output "$(printf '%s\n' 'plan true' 'max-memory-growth true' \
		'plan true' 'max-dropped true' 'max-invalid true' \
		'plan true' 'max-cpu true' 'max-overhead true' \
		'plan true' 'min-throughput true')"
	# The results are real runs: the memory gate compared 1 s and 5 s.
	run jq -r 'select(.type == "result") | .runtime' "$TMP/out/memory.jsonl"
	assert_output "$(printf '1\n5')"
	# The cpu gate ran traced and NoOp 3 times at each of two rates: pairs
	# at two span counts, what a cost per span is fitted from.
	run jq -r 'select(.type == "result") | "\(.target_sps) \(.trace)"' "$TMP/out/cpu.jsonl"
	assert_equal "$(sort <<<"$output" | uniq -c | awk '{ print $1, $2, $3 }' | tr '\n' ,)" \
		'3 100 false,3 100 true,3 500 false,3 500 true,'
	# bmf.json: every gate's Bencher Metric Format file in one, each
	# figure the value of the verdict it came from.
	run jq -S -s 'reduce .[] as $f ({}; . * $f)' "$TMP"/out/{memory,dropped,cpu,throughput}.bmf.json
	assert_success
	assert_equal "$(jq -S . "$TMP/out/bmf.json")" "$output"
	run jq -r 'keys[]' "$TMP/out/bmf.json"
	assert_line 'c/max-memory-growth'
	assert_line 'c/max-dropped'
	assert_line 'c/max-cpu'
	assert_line 'c/max-overhead'
	assert_equal "$(jq '."c/max-cpu".cpu_usage.value' "$TMP/out/bmf.json")" \
		"$(jq 'select(.gate == "max-cpu") | .value' "$TMP/out/cpu.verdicts")"
	assert_equal "$(jq '."c/max-dropped".dropped_spans.value' "$TMP/out/bmf.json")" \
		"$(jq 'select(.gate == "max-dropped") | .value' "$TMP/out/dropped.verdicts")"
}

@test "a gate that fails makes the script fail, and is not measured again" {
	MAX_CPU=0.3 CPU_SPS=500 run --separate-stderr "$LTB_ROOT/.circleci/gates.sh" \
		-c c -s 0.05 -o "$TMP/out" --retries 2 cpu
	assert_failure 1
	[[ $stderr != *"measuring again"* ]]
	[[ ! -e $TMP/out/cpu.try1.jsonl ]]
	run jq -r 'select(.gate == "max-cpu") | .pass' "$TMP/out/cpu.verdicts"
	assert_output false
	grep -q '<failure' "$TMP/out/cpu.xml"
}

# busy SECONDS: another process takes a CPU for at most SECONDS, so that
# the runs' noise figures say the machine was busy (teardown ends it). The
# client is calibrated first, on the machine as it was; a machine already
# too busy to calibrate (exit 4, three times) cannot run the test.
busy() {
	local i rc
	for i in 1 2 3; do
		rc=0
		ltb-control calibrate --client c >/dev/null 2>"$TMP/calibrate.err" || rc=$?
		[[ $rc -ne 4 ]] && break
	done
	[[ $rc -ne 4 ]] || skip "the machine is too busy to calibrate: $(tail -1 "$TMP/calibrate.err")"
	[[ $rc -eq 0 ]] || { cat "$TMP/calibrate.err" >&2; return 1; }
	timeout "$1" sh -c 'while :; do :; done' &
	started $!
}

# On a busy machine (MAX_NOISE) the cost per span is inconclusive whatever
# the runs say; the absolute limits are set out of the way, for the noise
# moves them too.

@test "an inconclusive gate exits 4, and --retries measures it again" {
	busy 120
	MAX_NOISE=0.3 CPU_NS_PER_SPAN=1000000 MAX_CPU=100 MAX_OVERHEAD=100 run --separate-stderr \
		"$LTB_ROOT/.circleci/gates.sh" -c c -s 0.05 -o "$TMP/out" --retries 1 cpu
	echo "$stderr" >&3
	assert_failure 4
	[[ $stderr == *"gates.sh: cpu: inconclusive, measuring again (1 of 1)"* ]]
	[[ $stderr != *"(2 of 1)"* ]]
	[[ $stderr == *"gates.sh: exit 4"* ]]
	# Measured again, not judged again: two sets of real runs.
	local f
	for f in cpu.try1.jsonl cpu.jsonl; do
		run jq -r 'select(.type == "result") | "\(.target_sps) \(.trace)"' "$TMP/out/$f"
		assert_equal "$(sort <<<"$output" | uniq -c | awk '{ print $1, $2, $3 }' | tr '\n' ,)" \
			'3 100 false,3 100 true,3 500 false,3 500 true,'
	done
	run jq -s -c '[.[] | select(.type == "result") | .program_time]' "$TMP/out/cpu.try1.jsonl"
	local first=$output
	run jq -s -c '[.[] | select(.type == "result") | .program_time]' "$TMP/out/cpu.jsonl"
	[[ $output != "$first" ]]
	# The last measurement's verdicts: the absolute limits judged, the
	# cost per span neither passed nor failed, for the noise; JUnit says
	# error.
	run jq -r '"\(.gate) \(.pass)"' "$TMP/out/cpu.verdicts"
	assert_output "$(printf '%s\n' 'plan true' 'max-cpu true' 'max-overhead true' \
		'max-ns-per-span inconclusive')"
	run jq -r 'select(.gate == "max-ns-per-span") | .detail' "$TMP/out/cpu.verdicts"
	assert_output --partial 'the machine was busy'
	[[ -s $TMP/out/cpu.try1.verdicts ]]
	grep -q '<error type="max-ns-per-span"' "$TMP/out/cpu.xml"
	run grep -c '<failure' "$TMP/out/cpu.xml"
	assert_output 0
}

@test "a failed gate outranks an inconclusive one that comes after it" {
	busy 120
	MAX_MEMORY_GROWTH=0.5 MAX_NOISE=0.3 CPU_NS_PER_SPAN=1000000 MAX_CPU=100 MAX_OVERHEAD=100 \
		run --separate-stderr \
		"$LTB_ROOT/.circleci/gates.sh" -c c -s 0.05 -o "$TMP/out" memory cpu
	assert_failure 1
	[[ $stderr != *"measuring again"* ]]
	run jq -r 'select(.gate == "max-memory-growth") | .pass' "$TMP/out/memory.verdicts"
	assert_output false
	run jq -r 'select(.gate == "max-ns-per-span") | .pass' "$TMP/out/cpu.verdicts"
	assert_output inconclusive
	[[ $stderr == *"gates.sh: exit 1"* ]]
}

@test "--help and -h print the usage on stdout, wherever they are" {
	local a
	for a in --help -h; do
		run --separate-stderr "$LTB_ROOT/.circleci/gates.sh" -c c -o "$TMP/out" "$a"
		assert_success
		assert_output --partial 'usage: gates.sh [-c CLIENT] [-k CONTRACT] [-s SCALE] [-o DIR] [--retries K] [GATE...]'
		assert_output --partial '--retries K'
		assert_output --partial '-k CONTRACT, --contract CONTRACT'
		[[ -z $stderr ]]
	done
	[[ ! -e $TMP/out ]]
}

@test "a retry count is a whole number" {
	local a
	for a in --retries=x --retries=-1 --retries=1.5 --retries=; do
		run "$LTB_ROOT/.circleci/gates.sh" -o "$TMP/out" "$a" cpu
		assert_failure 2
		assert_output --partial "gates.sh: bad retry count"
	done
	run "$LTB_ROOT/.circleci/gates.sh" -o "$TMP/out" --retries
	assert_failure 2
	assert_output --partial "--retries needs a count"
	run "$LTB_ROOT/.circleci/gates.sh" -o "$TMP/out" --retry 2
	assert_failure 2
	assert_output --partial "unknown option --retry"
	[[ ! -e $TMP/out ]]
}

@test "an unknown gate is a usage error" {
	run "$LTB_ROOT/.circleci/gates.sh" -o "$TMP/out" speed
	assert_failure 2
	assert_output --partial "unknown gate 'speed'"
}

@test "a sampler that dies makes gates.sh fail with its status, not as a gate" {
	mkdir -p "$TMP/clients/killer"
	cat >"$TMP/clients/killer/run" <<'SH'
#!/bin/sh
# Fetch, then kill the ltb-sample that started us (our keeper's parent).
curl -s "$LTB_CONTROL_URL" >/dev/null
sampler=$(awk '/^PPid/ { print $2 }' "/proc/$PPID/status")
kill -KILL "$sampler"
SH
	chmod +x "$TMP/clients/killer/run"
	LTB_CLIENTS_DIR=$TMP/clients run --separate-stderr \
		"$LTB_ROOT/.circleci/gates.sh" -c killer -s 0.05 -o "$TMP/out" dropped
	assert_failure 137
	[[ $stderr == *"gates.sh: exit 137"* ]]
	grep -q '<error type="dropped"' "$TMP/out/dropped.xml"
}

@test "a bad --contract is a usage error" {
	run "$LTB_ROOT/.circleci/gates.sh" -o "$TMP/out" --contract soap
	assert_failure 2
	assert_output --partial "gates.sh: bad contract 'soap': http or argv"
}

# The argv client's spans reach ltb-sample's own satellites only where
# the original's clients wrote, 127.0.0.1:8360-8367: this test needs
# ltb-sample's default satellites there.
@test "--contract argv runs the four gates to verdicts for a registered argv client" {
	mkdir -p "$TMP/clients/argv"
	printf '#!/bin/sh\nexec "%s" "$@"\n' "$LTB_ROOT/tests/fixtures/argv-client" >"$TMP/clients/argv/run"
	chmod +x "$TMP/clients/argv/run"
	export ARGV_LOG=$TMP/argv.log
	LTB_CLIENTS_DIR=$TMP/clients run --separate-stderr \
		"$LTB_ROOT/.circleci/gates.sh" -c argv --contract argv -s 0.05 -o "$TMP/out"
	echo "$stderr" >&3
	# Verdicts, not a tool's failure (2, 3): a shell client may well fail
	# a gate (its reports, made after its loop, cost it throughput), or
	# a shared machine leave one inconclusive (4).
	[[ $status -eq 0 || $status -eq 1 || $status -eq 4 ]]
	for g in memory dropped cpu throughput; do
		[[ -s $TMP/out/$g.verdicts ]]
		assert_equal "$(jq -r 'select(.type == "result") | .contract' "$TMP/out/$g.jsonl" | sort -u)" argv
		# every run measured: none failed, traced ones' spans arrived
		assert_equal "$(jq -r 'select(.gate == "plan") | .pass' "$TMP/out/$g.verdicts")" true
	done
	run jq -r '"\(.gate) \(.pass)"' "$TMP/out/dropped.verdicts"
	assert_output "$(printf '%s\n' 'plan true' 'max-dropped true' 'max-invalid true')"
	# the client was started the original's way, and only so
	run grep -cvE '^--trace [01] --sleep [0-9]+ --sleep_interval [0-9]+ --work [0-9]+ --repeat [0-9]+ --no_flush 0 --num_tags 10 --num_logs 15$' "$ARGV_LOG"
	assert_output 0
}
