#!/usr/bin/env bats
# ltb-plot: graphs rendered by the real gnuplot from results of real runs
# (tests/fixtures/plot, recorded by make demo with the C client).

load test_helper

F=$BATS_TEST_DIRNAME/fixtures/plot

is_png() {
	[[ $(head -c 8 "$1" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]]
}

@test "--help prints the usage on stdout and exits 0" {
	run ltb-plot --help
	assert_success
	assert_line --partial "usage: ltb-plot disconnect|memory|cpu|dropped"
}

@test "an unknown graph is a usage error" {
	run ltb-plot pie -o "$TMP/x.png" "$F/cpu.jsonl"
	assert_failure 2
}

@test "each graph renders a PNG" {
	for g in disconnect memory cpu dropped; do
		run ltb-plot "$g" -o "$TMP/$g.png" "$F/$g.jsonl"
		assert_success
		is_png "$TMP/$g.png"
		(($(wc -c <"$TMP/$g.png") > 10000))
	done
}

@test "disconnect draws four panels with red and green event lines, as SVG" {
	run ltb-plot disconnect -o "$TMP/d.svg" "$F/disconnect.jsonl"
	assert_success
	grep -q '<svg' "$TMP/d.svg"
	for t in NoOp "Satellites down" "Satellites down then up" "satellites back up"; do
		grep -q "$t" "$TMP/d.svg"
	done
}

@test "memory draws a line per span rate, named in the legend" {
	run ltb-plot memory -o "$TMP/m.svg" "$F/memory.jsonl"
	assert_success
	for r in 100 500 1000 2000; do grep -q ">$r sps<" "$TMP/m.svg"; done
}

@test "cpu --script holds the mean CPU of the traced runs at each rate" {
	run ltb-plot cpu --script "$F/cpu.jsonl"
	assert_success
	assert_output --partial 'EOD'
	# The mean over trials of the traced runs at 100 sps, to 3 places.
	mean=$(jq -s '[.[] | select(.trace and .target_sps == 100) | .cpu_usage] | add / length * 1000 | round / 1000' "$F/cpu.jsonl")
	# In the $traced datablock: rate, achieved sps, mean, min, max, trials.
	awk -v m="$mean" '/^\$traced/ { in_t = 1; next } /^EOD/ { in_t = 0 }
		in_t && $1 == 100 { if (sprintf("%.3f", $3) == sprintf("%.3f", m) && $6 == 3) f = 1 }
		END { exit !f }' <<<"$output"
}

@test "report writes one HTML page with graphs, runs and verdicts" {
	run ltb-plot report -o "$TMP/r.html" "$F"/*.jsonl
	assert_success
	grep -q '<svg' "$TMP/r.html"
	(($(grep -o '<svg' "$TMP/r.html" | wc -l) >= 4))
	grep -q 'max-cpu' "$TMP/r.html"
	grep -qi 'pass' "$TMP/r.html"
	! grep -q '<script src\|<link ' "$TMP/r.html"
}

@test "empty input is exit 2, not an empty graph" {
	run ltb-plot cpu -o "$TMP/x.png" </dev/null
	assert_failure 2
	[[ ! -s $TMP/x.png ]]
}

@test "a malformed line is exit 2 naming the line" {
	head -n 2 "$F/cpu.jsonl" >"$TMP/bad.jsonl"
	echo '{"type":"result", oops' >>"$TMP/bad.jsonl"
	run ltb-plot cpu -o "$TMP/x.png" "$TMP/bad.jsonl"
	assert_failure 2
	assert_output --partial "bad.jsonl:3"
}

@test "without gnuplot it says what to install" {
	mkdir -p "$TMP/nobin"
	run env PATH="$TMP/nobin" "$LTB_BUILD_DIR/bin/ltb-plot" cpu -o "$TMP/x.png" "$F/cpu.jsonl"
	assert_failure 3
	assert_output --partial "gnuplot"
	assert_output --partial "install"
}
