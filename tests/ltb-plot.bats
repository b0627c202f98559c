#!/usr/bin/env bats
# ltb-plot: graphs and the HTML report from the real result files in
# tests/fixtures/plot/ (see its README), drawn by the installed gnuplot.

load test_helper

FX=$BATS_TEST_DIRNAME/fixtures/plot

# is_png FILE: the eight bytes every PNG starts with.
is_png() {
	[ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
}

# is_svg FILE
is_svg() {
	local head
	head=$(head -c 100 "$1")
	[[ $head == '<?xml'* || $head == '<svg'* ]]
	grep -q '</svg>' "$1"
}

@test "disconnect draws a PNG" {
	run ltb-plot disconnect -o "$TMP/d.png" "$FX/disconnect.jsonl"
	assert_success
	is_png "$TMP/d.png"
}

@test "memory draws a PNG" {
	run ltb-plot memory -o "$TMP/m.png" "$FX/memory.jsonl"
	assert_success
	is_png "$TMP/m.png"
}

@test "cpu draws a PNG from stdin" {
	run ltb-plot cpu -o "$TMP/c.png" <"$FX/cpu.jsonl"
	assert_success
	is_png "$TMP/c.png"
}

@test "dropped draws a PNG" {
	run ltb-plot dropped -o "$TMP/x.png" "$FX/dropped.jsonl"
	assert_success
	is_png "$TMP/x.png"
}

@test "disconnect SVG has four titled panels and the satellite lines" {
	run ltb-plot disconnect -o "$TMP/d.svg" "$FX/disconnect.jsonl"
	assert_success
	is_svg "$TMP/d.svg"
	grep -q '>NoOp<' "$TMP/d.svg"
	grep -q '>Traced: c<' "$TMP/d.svg"
	grep -q '>Satellites down (at 3 s)<' "$TMP/d.svg"
	grep -q '>Satellites down then up (at 3 s, 8 s)<' "$TMP/d.svg"
	grep -q '>satellites down<' "$TMP/d.svg"
	grep -q '>satellites back up<' "$TMP/d.svg"
	grep -q 'memory, resident (MiB)' "$TMP/d.svg"
	grep -q '>time (s)<' "$TMP/d.svg"
}

@test "disconnect draws a scripted run as a fifth panel, its steps shaded and labelled" {
	run ltb-plot disconnect -o "$TMP/d.svg" "$FX/disconnect.jsonl" "$FX/scripted.jsonl"
	assert_success
	is_svg "$TMP/d.svg"
	grep -q '>Satellites down then up (at 3 s, 8 s)<' "$TMP/d.svg"
	grep -q '>Scripted answers (429 Retry-After 1 at 1.04 s, drop at 2.54 s)<' "$TMP/d.svg"
	grep -q '>429 Retry-After 1<' "$TMP/d.svg"
	grep -q '>drop<' "$TMP/d.svg"
	grep -q '>scripted answers<' "$TMP/d.svg"
	# Without a scripted run, the four panels stay as they were.
	run ltb-plot disconnect --script -o "$TMP/d4.svg" "$FX/disconnect.jsonl"
	assert_output --partial 'set multiplot layout 2,2'
	refute_output --partial 'Scripted answers'
	# A scripted run alone is enough to draw.
	run ltb-plot disconnect --script -o "$TMP/s.svg" "$FX/scripted.jsonl"
	assert_success
	assert_output --partial 'set multiplot layout 3,2'
	assert_output --partial "set object 1 rect from 1.036, graph 0 to 2.036, graph 1"
}

@test "memory SVG has a line per rate" {
	run ltb-plot memory -o "$TMP/m.SVG" "$FX/memory.jsonl"
	assert_success
	is_svg "$TMP/m.SVG"
	for r in 100 500 1000 2000; do
		grep -q ">$r sps<" "$TMP/m.SVG"
	done
	grep -q '>c: memory over time, traced<' "$TMP/m.SVG"
}

@test "cpu SVG names NoOp, the client and the tracer's own CPU" {
	run ltb-plot cpu -o "$TMP/c.svg" "$FX/cpu.jsonl"
	assert_success
	is_svg "$TMP/c.svg"
	grep -q '>NoOp<' "$TMP/c.svg"
	grep -q '>traced: c<' "$TMP/c.svg"
	grep -q '>c tracer CPU (traced - NoOp)<' "$TMP/c.svg"
	grep -q '>c: CPU against span rate<' "$TMP/c.svg"
	grep -q 'span rate achieved (spans/s)' "$TMP/c.svg"
}

@test "dropped SVG has both axes" {
	run ltb-plot dropped -o "$TMP/x.svg" "$FX/dropped.jsonl"
	assert_success
	grep -q '>spans dropped (%)<' "$TMP/x.svg"
	grep -q '>CPU of c, traced<' "$TMP/x.svg"
	grep -q 'CPU (fraction of one core)' "$TMP/x.svg"
}

@test "--title replaces the title" {
	run ltb-plot memory --title 'Release 1.2 <memory>' -o "$TMP/m.svg" \
	    "$FX/memory.jsonl"
	assert_success
	grep -q '>Release 1.2 &lt;memory>' "$TMP/m.svg"
	! grep -q 'memory over time, traced' "$TMP/m.svg"
}

@test "--script prints the cpu program with the means of the trials" {
	run --separate-stderr ltb-plot cpu --script "$FX/cpu.jsonl"
	assert_success
	[[ $output == *'set terminal pngcairo'* ]]
	# 500 sps traced: cpu_usage 0.7264 and 0.7298, sps 496.02 and 495.85.
	assert_line '500 495.935 0.7281 0.7264 0.7298 2'
	# Traced minus NoOp at 500 sps: 0.7281 - 0.72365.
	assert_line '500 495.935 0.00445 0.0021 0.0068 2'
	assert_line '$overhead << EOD'
}

@test "--spread ci draws 95% intervals" {
	run --separate-stderr ltb-plot cpu --script --spread ci "$FX/cpu.jsonl"
	assert_success
	# 0.7281 +- t(0.975, 1) 12.7062 * 0.0017.
	assert_line '500 495.935 0.7281 0.7064994519 0.7497005481 2'
	[[ $output == *'bars: 95% confidence interval'* ]]
}

@test "--script of memory has MiB at the sample times" {
	run --separate-stderr ltb-plot memory --script "$FX/memory.jsonl"
	assert_success
	# First sample of 100 sps: 10575872 bytes, clock_time / 5 samples.
	first=$(jq -r 'select(.target_sps == 100) |
	    "\(.clock_time / 5) \(.memory_list[0] / 1048576)"' \
	    "$FX/memory.jsonl")
	[[ $output == *'$m0 << EOD'* ]]
	run awk '/^\$m0 << EOD/ { getline; print; exit }' <<<"$output"
	awk -v a="$output" -v b="$first" 'BEGIN {
	    split(a, x, " "); split(b, y, " ");
	    exit !((x[1] - y[1])^2 < 1e-12 && (x[2] - y[2])^2 < 1e-12) }'
}

@test "--interval sets the sample times" {
	run --separate-stderr ltb-plot memory --script --interval 2 \
	    "$FX/memory.jsonl"
	assert_success
	run awk '/^\$m0 << EOD/ { getline; print $1; getline; print $1; exit }' \
	    <<<"$output"
	assert_output $'2\n4'
}

@test "--script with -o runs by hand in gnuplot" {
	ltb-plot dropped --script -o "$TMP/by-hand.svg" "$FX/dropped.jsonl" \
	    >"$TMP/dropped.gp"
	grep -q "^set output '$TMP/by-hand.svg'" "$TMP/dropped.gp"
	grep -q '^set terminal svg' "$TMP/dropped.gp"
	gnuplot "$TMP/dropped.gp"
	is_svg "$TMP/by-hand.svg"
}

@test "report is one HTML page with graphs, runs, verdicts, calibration and noise" {
	run ltb-plot report -o "$TMP/r.html" "$FX/calibration.jsonl" \
	    "$FX/cpu.jsonl" "$FX/failed.jsonl" "$FX/verdicts.jsonl"
	assert_success
	f=$TMP/r.html
	head -n 1 "$f" | grep -qx '<!DOCTYPE html>'
	[ "$(grep -c '<svg' "$f")" = 3 ]
	grep -q 'id="graph-cpu"' "$f"
	grep -q 'id="graph-memory"' "$f"
	grep -q 'id="graph-dropped"' "$f"
	grep -q '<p class="skip">No disconnect graph: no traced results with memory_list and satellite events' "$f"
	# A row per run: 16 results and the failed one.
	[ "$(grep -c '^<tr[^>]*><td>[0-9]*</td><td class="t">c</td>' "$f")" = 34 ]
	grep -q '<tr class="failed"><td>17</td>.*the client exited with status 3' "$f"
	grep -q '<span class="pass">PASS</span>' "$f"
	grep -q '<span class="fail">FAIL</span>' "$f"
	grep -q '<td class="t">max-overhead</td>' "$f"
	grep -q '<th>sleep_per_work_ns</th>' "$f"
	grep -q '<h2>Machine noise</h2>' "$f"
	grep -q '<th>steal (s)</th>' "$f"
	# Self-contained: nothing fetched from elsewhere.
	! grep -Eq '(src|href)="(https?:)?//' "$f"
	! grep -q '<?xml' "$f"
}

@test "report gives each figure its own SVG ids" {
	run ltb-plot report -o "$TMP/r.html" "$FX/cpu.jsonl" \
	    "$FX/disconnect.jsonl"
	assert_success
	[ "$(grep -c '<svg' "$TMP/r.html")" = 4 ]
	dups=$(grep -o " id=['\"][^'\"]*['\"]" "$TMP/r.html" | sort | uniq -d)
	[ -z "$dups" ]
	grep -q "id='f1-gpPt0'" "$TMP/r.html"
	grep -q "href='#f2-gpPt" "$TMP/r.html"
}

@test "report escapes what the records say" {
	jq -c '.client = "<b>&\"x" | .error = "<script>alert(1)</script>"' \
	    "$FX/failed.jsonl" >"$TMP/evil.jsonl"
	run ltb-plot report -o "$TMP/r.html" "$TMP/evil.jsonl"
	assert_success
	grep -q '&lt;b&gt;&amp;&quot;x' "$TMP/r.html"
	grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$TMP/r.html"
	! grep -q '<script>' "$TMP/r.html"
	! grep -q '<b>' "$TMP/r.html"
	grep -q 'No cpu graph: no successful results' "$TMP/r.html"
}

@test "a client name reaches gnuplot as plain text" {
	jq -c ".client = \"it's_a^b\"" "$FX/memory.jsonl" >"$TMP/q.jsonl"
	run ltb-plot memory -o "$TMP/q.svg" "$TMP/q.jsonl"
	assert_success
	grep -q ">it's_a^b: memory over time, traced<" "$TMP/q.svg"
}

@test "a failed run is left out of the graphs, with a warning" {
	run --separate-stderr ltb-plot cpu --script "$FX/cpu.jsonl" \
	    "$FX/failed.jsonl"
	assert_success
	[[ $stderr == *"ltb-plot: $FX/failed.jsonl:1: failed run left out of the graphs: the client exited with status 3"* ]]
	refute_line --partial '51591'
}

@test "empty input is exit 2" {
	run --separate-stderr ltb-plot cpu -o "$TMP/c.png" </dev/null
	assert_failure 2
	[ "$stderr" = "ltb-plot: no result records in stdin: nothing to draw" ]
	[ ! -e "$TMP/c.png" ]
}

@test "records but no results is exit 2" {
	run --separate-stderr ltb-plot report -o "$TMP/r.html" \
	    "$FX/verdicts.jsonl" "$FX/calibration.jsonl"
	assert_failure 2
	[[ $stderr == *"no result records in $FX/verdicts.jsonl, $FX/calibration.jsonl: nothing to draw" ]]
}

@test "a malformed line is exit 2 naming file and line" {
	run --separate-stderr ltb-plot cpu -o "$TMP/c.png" "$FX/malformed.jsonl"
	assert_failure 2
	[ "$stderr" = "ltb-plot: $FX/malformed.jsonl:2: not a JSON object" ]
}

@test "a field of the wrong type is exit 2 naming file and line" {
	run --separate-stderr ltb-plot memory -o "$TMP/m.png" \
	    "$FX/bad-field.jsonl"
	assert_failure 2
	[ "$stderr" = "ltb-plot: $FX/bad-field.jsonl:3: result's \"memory_list\" is \"lots\", not a list" ]
}

@test "nothing suitable for the graph is exit 2" {
	jq -c 'select(.trace == false)' "$FX/cpu.jsonl" >"$TMP/noop.jsonl"
	run --separate-stderr ltb-plot memory -o "$TMP/m.png" "$TMP/noop.jsonl"
	assert_failure 2
	[ "$stderr" = "ltb-plot: no traced results with memory_list: nothing to draw" ]
	run --separate-stderr ltb-plot dropped -o "$TMP/m.png" "$TMP/noop.jsonl"
	assert_failure 2
	[[ $stderr == *"no traced results with dropped and spans_sent: nothing to draw" ]]
	run --separate-stderr ltb-plot disconnect -o "$TMP/m.png" "$FX/memory.jsonl"
	assert_failure 2
	[[ $stderr == *"satellite events"*"nothing to draw" ]]
	[ ! -e "$TMP/m.png" ]
}

@test "several clients need --client" {
	jq -c '.client = "js"' "$FX/memory.jsonl" >"$TMP/js.jsonl"
	run --separate-stderr ltb-plot memory -o "$TMP/m.png" \
	    "$FX/memory.jsonl" "$TMP/js.jsonl"
	assert_failure 2
	[ "$stderr" = "ltb-plot: results from several clients (c, js): choose one with --client" ]
	run ltb-plot memory --client js -o "$TMP/m.svg" "$FX/memory.jsonl" \
	    "$TMP/js.jsonl"
	assert_success
	grep -q '>js: memory over time, traced<' "$TMP/m.svg"
}

@test "without gnuplot it is exit 3 with the install hint" {
	run --separate-stderr env PATH=/nonexistent "$LTB_BUILD_DIR/bin/ltb-plot" \
	    cpu -o "$TMP/c.png" "$FX/cpu.jsonl"
	assert_failure 3
	[ "$stderr" = "ltb-plot: gnuplot not found: install gnuplot-nox (apt-get install gnuplot-nox)" ]
	[ ! -e "$TMP/c.png" ]
	[ -z "$(ls -A "$TMP" | grep ltb-plot)" ]
}

@test "a failing gnuplot is exit 3 with what it said" {
	mkdir "$TMP/bin"
	printf '#!/bin/sh\necho "line 1: no such terminal" >&2\necho half\nexit 1\n' \
	    >"$TMP/bin/gnuplot"
	chmod +x "$TMP/bin/gnuplot"
	run --separate-stderr env PATH="$TMP/bin:$PATH" \
	    ltb-plot cpu -o "$TMP/c.png" "$FX/cpu.jsonl"
	assert_failure 3
	[ "$stderr" = $'ltb-plot: gnuplot: line 1: no such terminal\nltb-plot: gnuplot failed (exit status 1)' ]
	# Nothing half drawn is left behind.
	[ ! -e "$TMP/c.png" ]
	[ -z "$(ls -A "$TMP" | grep ltb-plot)" ]
}

@test "-o - draws on stdout" {
	ltb-plot memory -o - "$FX/memory.jsonl" >"$TMP/m.png"
	is_png "$TMP/m.png"
}

@test "--help prints usage on stdout and exits 0" {
	run --separate-stderr ltb-plot --help
	assert_success
	[[ $output == 'usage: ltb-plot disconnect|memory|cpu|dropped -o FILE'* ]]
	[[ $output == *'Exit: 0'* ]]
	[ -z "$stderr" ]
}

@test "bad usage is exit 2 with the usage on stderr" {
	run --separate-stderr ltb-plot cpu --bogus -o x.png
	assert_failure 2
	[[ $stderr == "ltb-plot: bad option '--bogus'"$'\n''usage: ltb-plot'* ]]
	[ -z "$output" ]
	run --separate-stderr ltb-plot pie -o x.png
	assert_failure 2
	[[ $stderr == "ltb-plot: unknown graph 'pie'"* ]]
	run --separate-stderr ltb-plot cpu
	assert_failure 2
	[[ $stderr == "ltb-plot: no -o FILE to draw into"* ]]
	run --separate-stderr ltb-plot
	assert_failure 2
	run --separate-stderr ltb-plot memory --interval 0 -o x.png
	assert_failure 2
	[[ $stderr == "ltb-plot: bad --interval '0'"* ]]
	run --separate-stderr ltb-plot cpu --spread wide -o x.png
	assert_failure 2
	run --separate-stderr ltb-plot cpu -o
	assert_failure 2
	[[ $stderr == "ltb-plot: option '-o' needs a value"* ]]
}

@test "runs labelled with the graph's name are the graph's own" {
	{ jq -c '.label = "memory"' "$FX/memory.jsonl"; cat "$FX/cpu.jsonl"; } \
	    >"$TMP/all.jsonl"
	run --separate-stderr ltb-plot memory --script "$TMP/all.jsonl"
	assert_success
	[ "$(grep -c '<< EOD' <<<"$output")" = 4 ]
	# --label chooses others; unlabelled runs have the label "".
	run --separate-stderr ltb-plot memory --script --label '' \
	    "$TMP/all.jsonl"
	assert_success
	[ "$(grep -c '<< EOD' <<<"$output")" = 4 ]
	refute_line --partial '5 s run'
	run --separate-stderr ltb-plot memory --script --label nope \
	    "$TMP/all.jsonl"
	assert_failure 2
	[ "$stderr" = "ltb-plot: no results labelled 'nope'" ]
}

@test "a result record of the wrong shape is exit 2 naming file and line, as in ltb-assert" {
	local change
	for change in '.exit_status = "1"' '.exit_status = true' 'del(.exit_status)' \
	    '.error = 5' '.error = {}' '.error = ""' '.cpu_usage = -0.5' '.v = 2'; do
		grep '"type":"result"' "$FX/cpu.jsonl" | head -n 1 | jq -c "$change" >"$TMP/bad.jsonl"
		run ltb-plot cpu -o "$TMP/c.png" "$TMP/bad.jsonl"
		[ "$status" -eq 2 ] || fail "'$change' gave exit $status: $output"
		[[ $output == "ltb-plot: $TMP/bad.jsonl:1: "* ]] || fail "'$change': $output"
		run ltb-assert --max-cpu 1 "$TMP/bad.jsonl"
		[ "$status" -eq 2 ] || fail "ltb-assert: '$change' gave exit $status: $output"
	done
}

# gate_cost FILE: what ltb-assert's per-span gate finds in FILE, in the
# words ltb_cost_line gives a resolved fit: "6310 ns/span (95% CI 4779 to
# 7841, OLS over 6 pairs)". Sets COST.
gate_cost() {
	COST=$(ltb-assert --max-ns-per-span 1000000 --max-noise 100 "$1" 2>/dev/null |
		jq -r 'select(.gate == "max-ns-per-span") | select(.resolved) |
		    "\(.value | round) ns/span (95% CI \(.ci95[0] | round) to \(.ci95[1] | round), OLS over \(.pairs) pairs)"')
	[[ $COST == *' ns/span (95% CI '* ]]
}

@test "cpu draws the fitted cost per span over the tracer's CPU, and says it" {
	gate_cost "$FX/cost.jsonl"
	run --separate-stderr ltb-plot cpu --script "$FX/cost.jsonl"
	assert_success
	# ltb-assert's own fit (6310 ns/span over 6 pairs), resolved.
	assert_line "set label 2 'cost per span: $COST' at screen 0.5, screen 0.015 center font ',10'"
	assert_line '$fit << EOD'
	# At 40000 sps: (0.0004 CPU-s + 6310 ns * 80000 spans) over the
	# traced runs' mean clock time, 2.57 s; its band holds it.
	local row
	row=$(sed -n '/^\$fit << EOD$/,/^EOD$/p' <<<"$output" | grep '^40000 ')
	awk '{ exit !($3 > 0.19 && $3 < 0.20 && $4 < $3 && $3 < $5 && $6 == 2) }' <<<"$row"
	assert_output --partial "\$fit using 2:3 with lines"
	assert_output --partial "\$fit using 2:4:5 with filledcurves"
	# With the pairs it was fitted to: traced minus NoOp program time over
	# the traced run's clock, 0.18 and 0.21 CPU at 40000 sps, where the
	# traced runs, slowed, make traced minus NoOp cpu_usage read 0.05.
	assert_line '40000 30795.07 0.18411733'
	assert_line '40000 30838.3 0.2055739727'
	assert_output --partial "\$pairs using 2:3 with points"
	run ltb-plot cpu -o "$TMP/c.svg" "$FX/cost.jsonl"
	assert_success
	grep -qF ">cost per span: $COST<" "$TMP/c.svg"
	grep -q '>fit: fixed cost per run + cost per span x spans<' "$TMP/c.svg"
	run ltb-plot cpu -o "$TMP/c.png" "$FX/cost.jsonl"
	assert_success
	is_png "$TMP/c.png"
}

@test "cpu says when the cost per span is not resolved, or not known" {
	# The gate's interval (-167 to 18852 ns/span) holds 0.
	local ci
	ci=$(ltb-assert --max-ns-per-span 1000000 --max-noise 100 "$FX/cpu.jsonl" 2>/dev/null |
		jq -r 'select(.gate == "max-ns-per-span") | select(.resolved == false) |
		    "\(.ci95[0] | round) to \(.ci95[1] | round) ns/span over \(.pairs) pairs"')
	[[ -n $ci ]]
	run --separate-stderr ltb-plot cpu --script "$FX/cpu.jsonl"
	assert_success
	assert_output --partial "set label 2 'cost per span not resolved: $ci (more rates, trials or longer runs would resolve it)'"
	# One pair: no fit, so no line, and the graph says why.
	head -n 2 "$FX/cpu.jsonl" >"$TMP/one.jsonl"
	run --separate-stderr ltb-plot cpu --script "$TMP/one.jsonl"
	assert_success
	assert_output --partial "set label 2 'cost per span not known: 1 pair (it needs 3 or more, traced and NoOp at 2 rates or more)'"
	refute_output --partial '$fit'
	run ltb-plot cpu -o "$TMP/one.png" "$TMP/one.jsonl"
	assert_success
	is_png "$TMP/one.png"
	# Runs the fit cannot pair (one plan given twice) are no reason not
	# to draw; the graph says why there is no fit.
	cp "$FX/cpu.jsonl" "$TMP/again.jsonl"
	run --separate-stderr ltb-plot cpu --script "$FX/cpu.jsonl" "$TMP/again.jsonl"
	assert_success
	assert_output --partial "set label 2 'cost per span not known: "
	assert_output --partial "two base runs for the pair of $FX/cpu.jsonl:1: give each plan''s results once'"
	refute_output --partial '$fit'
}

@test "report says the cost per span under the cpu graph, and inconclusive verdicts as such" {
	gate_cost "$FX/cost.jsonl"
	ltb-assert --max-ns-per-span 1000 --max-noise 0.5 "$FX/cost.jsonl" >"$TMP/v.jsonl" || true
	run ltb-plot report -o "$TMP/r.html" "$FX/cost.jsonl" "$TMP/v.jsonl"
	assert_success
	f=$TMP/r.html
	grep -qF "against its spans over every rate: cost per span: $COST. Fixed cost per run, apart: 0.0004 CPU-s (95% CI -0.07046 to 0.07126).</p>" "$f"
	grep -q '^<p class="cost" id="cost-per-span">' "$f"
	# After the cpu figure, before the next.
	run grep -o 'id="graph-cpu"\|id="cost-per-span"\|id="graph-dropped"' "$f"
	assert_output "$(printf '%s\n' 'id="graph-cpu"' 'id="cost-per-span"' 'id="graph-dropped"')"
	# The machine was busy: the per-span gate is neither PASS nor FAIL.
	grep -q '<tr class="inconclusive"><td class="t">max-ns-per-span</td><td class="t"><span class="inconclusive">INCONCLUSIVE</span>' "$f"
	# One pair: the report says there is no fit.
	head -n 2 "$FX/cpu.jsonl" >"$TMP/one.jsonl"
	run ltb-plot report -o "$TMP/one.html" "$TMP/one.jsonl"
	assert_success
	grep -q '<p class="cost" id="cost-per-span">.*cost per span not known: 1 pair' "$TMP/one.html"
	! grep -q 'ns/span' "$TMP/one.html"
}

# as_measurements FILE: its results as a metrics client's, counting
# measurements ("unit": "measurement"), on stdout.
as_measurements() {
	jq -c 'if .type == "result" then .unit = "measurement" | .client = "c-spectator" else . end' "$1"
}

@test "a metrics client's graphs say measurements: axes, titles, cost per measurement" {
	as_measurements "$FX/cost.jsonl" >"$TMP/cost.jsonl"
	run ltb-plot cpu --script "$TMP/cost.jsonl"
	assert_success
	assert_line "set xlabel 'measurement rate achieved (measurements/s)'"
	assert_line "set multiplot layout 2,1 title 'c-spectator: CPU against measurement rate' font ',13'"
	assert_line --partial "set label 2 'cost per measurement: 6310 ns/measurement (95% CI 4779 to 7841, OLS over 6 pairs)'"
	assert_line --partial "title 'fit: fixed cost per run + cost per measurement x measurements'"
	refute_line --partial "span"
	as_measurements "$FX/dropped.jsonl" >"$TMP/dropped.jsonl"
	run ltb-plot dropped --script "$TMP/dropped.jsonl"
	assert_success
	assert_line "set ylabel 'measurements dropped (% of measurements sent)' tc rgb '#d62728'"
	refute_line --partial "span"
	as_measurements "$FX/memory.jsonl" >"$TMP/memory.jsonl"
	run ltb-plot memory --script "$TMP/memory.jsonl"
	assert_line --partial "title '500 measurements/s'"
	# drawn, the SVG says so too
	run ltb-plot cpu -o "$TMP/c.svg" "$TMP/cost.jsonl"
	assert_success
	is_svg "$TMP/c.svg"
	grep -q 'measurement rate achieved (measurements/s)' "$TMP/c.svg"
	# and the report's captions and cost
	run ltb-plot report -o "$TMP/r.html" "$TMP/cost.jsonl"
	assert_success
	grep -q '<figcaption>CPU against measurement rate, NoOp and traced' "$TMP/r.html"
	grep -qF 'program_time) against its measurements over every rate: cost per measurement: 6310 ns/measurement' "$TMP/r.html"
	# a tracer's stay as they were
	run ltb-plot cpu --script "$FX/cost.jsonl"
	assert_line "set xlabel 'span rate achieved (spans/s)'"
}

@test "runs of two units in one graph are exit 2 naming two of them" {
	as_measurements "$FX/cpu.jsonl" | head -n 1 | jq -c '.client = "c"' >"$TMP/m.jsonl"
	cat "$FX/cpu.jsonl" "$TMP/m.jsonl" >"$TMP/mixed.jsonl"
	n=$(wc -l <"$TMP/mixed.jsonl")
	first=$(grep -n '"type":"result"' "$FX/cpu.jsonl" | head -n 1 | cut -d: -f1)
	run --separate-stderr ltb-plot cpu --script "$TMP/mixed.jsonl"
	assert_failure 2
	[ "$stderr" = "ltb-plot: $TMP/mixed.jsonl:$first counts spans, $TMP/mixed.jsonl:$n measurements: one graph draws one unit (choose the runs with --label or --client)" ]
}

@test "report tables the cost per span with its 95% interval, as ltb-assert fits it" {
	ltb-assert --max-ns-per-span 1000000 --max-noise 100 "$FX/cost.jsonl" 2>/dev/null |
		jq -r 'select(.gate == "max-ns-per-span")' >"$TMP/gate.json"
	ns=$(fit_num "$(jq .value "$TMP/gate.json")")
	pm=$(fit_num "$(jq '(.ci95[1] - .ci95[0]) / 2' "$TMP/gate.json")")
	lo=$(fit_num "$(jq '.ci95[0]' "$TMP/gate.json")")
	hi=$(fit_num "$(jq '.ci95[1]' "$TMP/gate.json")")
	run ltb-plot report -o "$TMP/r.html" "$FX/cost.jsonl"
	assert_success
	f=$TMP/r.html
	grep -qF "<tr><th>cost per span (ns/span)</th><td id=\"cost-ns\">$ns &#177; $pm</td><td>$lo to $hi</td><td>$(jq .pairs "$TMP/gate.json")</td><td class=\"t\">resolved</td></tr>" "$f"
	grep -q '<table class="cost" id="cost-table">' "$f"
	# Unresolved, it still says the estimate and its interval.
	ltb-plot report -o "$TMP/u.html" "$FX/cpu.jsonl"
	grep -q '<td id="cost-ns">[-0-9.e+]* &#177; [0-9.e+]*</td>.*<td class="t">not resolved from 0</td>' "$TMP/u.html"
}

@test "report says how much of the plan ran, flagged when incomplete" {
	run ltb-plot report -o "$TMP/r.html" "$FX/cost.jsonl"
	assert_success
	grep -qF '<p class="plan complete" id="plan">The plan ran whole: 12 of 12 planned runs, none failed.</p>' "$TMP/r.html"
	grep -qF '<tr><td class="t">' "$TMP/r.html"
	grep -q '<table id="plan-table">' "$TMP/r.html"
	# Cut short: the plan_end ltb-sample writes when interrupted.
	jq -c 'if .type == "plan_end" then .planned = 14 | .complete = false |
		.why = "interrupted by Terminated" |
		.missing = ["c traced 40000 sps trial 2", "c NoOp 40000 sps trial 2"]
		else . end' "$FX/cost.jsonl" >"$TMP/cut.jsonl"
	run ltb-plot report -o "$TMP/cut.html" "$TMP/cut.jsonl"
	assert_success
	f=$TMP/cut.html
	grep -qF '<p class="plan incomplete" id="plan"><strong>INCOMPLETE</strong>: 12 of 14 planned runs, none failed; interrupted by Terminated. Missing: c traced 40000 sps trial 2, c NoOp 40000 sps trial 2.</p>' "$f"
	grep -qF "<tr class=\"failed\"><td class=\"t\">$TMP/cut.jsonl:13</td><td>14</td><td>12</td><td>0</td><td class=\"t\">no</td><td class=\"t\">interrupted by Terminated</td>" "$f"
	# The flag comes first, before the verdicts and graphs.
	run grep -o 'id="plan"\|<h2>[A-Za-z ]*</h2>' "$f"
	assert_line --index 0 'id="plan"'
	# No plan_end at all: the report cannot tell, and says so.
	jq -c 'select(.type != "plan_end")' "$FX/cost.jsonl" >"$TMP/none.jsonl"
	ltb-plot report -o "$TMP/none.html" "$TMP/none.jsonl"
	grep -qF '<p class="plan incomplete" id="plan"><strong>NOT KNOWN TO BE WHOLE</strong>: no plan_end record' "$TMP/none.html"
}

@test "report --baseline compares the cost per span, the rates and the gates with the baseline's" {
	# The baseline: the same runs with a tracer 2000 ns a span cheaper
	# (less program_time in its traced runs), and its own verdicts.
	jq -c 'if .type == "result" and .trace then .program_time -= .spans_sent * 2e-6 else . end' \
		"$FX/cost.jsonl" >"$TMP/base.jsonl"
	ltb-assert --max-ns-per-span 1000000 --max-noise 100 "$TMP/base.jsonl" >>"$TMP/base.jsonl" 2>/dev/null
	ltb-assert --max-ns-per-span 1000000 --max-noise 100 "$FX/cost.jsonl" >"$TMP/v.jsonl" 2>/dev/null
	cur=$(jq 'select(.gate == "max-ns-per-span") | .value' "$TMP/v.jsonl")
	base=$(jq 'select(.gate == "max-ns-per-span") | .value' "$TMP/base.jsonl")
	run ltb-plot report --baseline "$TMP/base.jsonl" -o "$TMP/r.html" "$FX/cost.jsonl" "$TMP/v.jsonl"
	assert_success
	f=$TMP/r.html
	grep -qF "<h2 id=\"baseline\">Against the baseline</h2>" "$f"
	grep -qF "<p>Baseline: $TMP/base.jsonl, 12 runs of c; its plan ran whole.</p>" "$f"
	change=$(printf '%+.1f%%' "$(jq -n "($cur - $base) / $base * 100")")
	grep -qF "<tr><th>cost per span (ns/span)</th><td>$(fit_num "$cur")" "$f"
	grep -q "<tr><th>cost per span (ns/span)</th><td>[^<]*</td><td>$(fit_num "$base") &#177; [^<]*</td><td class=\"up\">$change</td></tr>" "$f"
	# At each rate both have: the tracer's CPU, higher than the baseline's.
	grep -q '<tr><th>tracer CPU at 40000 sps (cores)</th><td>[0-9.]*</td><td>[0-9.]*</td><td class="up">+[0-9.]*%</td></tr>' "$f"
	grep -q '<tr><th>achieved sps at 40000 sps (traced)</th>' "$f"
	# The gates the two share, value against value.
	grep -q '<tr><th>gate max-ns-per-span</th><td>[0-9.e+]* <span class="inconclusive">INCONCLUSIVE</span>\|<tr><th>gate max-ns-per-span</th><td>[0-9.e+]* <span class="pass">PASS</span>' "$f"
	grep -q '<tr><th>gate plan</th><td>12 <span class="pass">PASS</span></td><td>12 <span class="pass">PASS</span></td><td class="same">0</td></tr>' "$f"
	# Without --baseline there is no such section; a baseline without
	# results is a usage error.
	ltb-plot report -o "$TMP/plain.html" "$FX/cost.jsonl"
	! grep -q 'id="baseline"' "$TMP/plain.html"
	run ltb-plot report --baseline "$TMP/v.jsonl" -o "$TMP/x.html" "$FX/cost.jsonl"
	assert_failure 2
	assert_output --partial "ltb-plot: baseline $TMP/v.jsonl: no result records: nothing to compare with"
	run ltb-plot cpu --baseline "$TMP/base.jsonl" -o "$TMP/x.png" "$FX/cost.jsonl"
	assert_failure 2
	assert_output --partial "ltb-plot: --baseline is for report"
}
