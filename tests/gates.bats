#!/usr/bin/env bats
# .circleci/gates.sh: the four regression gates as pipelines of the real
# tools, at a small scale, with the C client.

load test_helper

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
}

@test "a gate that fails makes the script fail" {
	MAX_CPU=0.3 run --separate-stderr "$LTB_ROOT/.circleci/gates.sh" -c c -s 0.05 -o "$TMP/out" cpu
	assert_failure 1
	run jq -r 'select(.gate == "max-cpu") | .pass' "$TMP/out/cpu.verdicts"
	assert_output false
	grep -q '<failure' "$TMP/out/cpu.xml"
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
