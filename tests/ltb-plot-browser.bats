#!/usr/bin/env bats
# ltb-plot-browser: the HTML report of a real short run, opened in a real
# browser. ltb-plot.bats reads the page as text; only a browser says whether
# it renders: whether the inline SVG parses into drawn graphs, whether the
# page logs errors or tries to load anything, whether it paints. The runs
# are real (ltb-sample, the satellites it starts, the C client), short, and
# made once for the file; the browser is Debian's Chromium, headless.

load test_helper

LTB_NOT_UNDER_SANITIZER="it checks the page in a browser; ltb-plot.bats runs ltb-plot itself under the sanitizers"
LTB_NOT_IN_FRESH_ROOT="a browser reading the page needs nothing a fresh machine lacks; the normal build runs it"

# The report and what it was made of, in $BATS_FILE_TMPDIR:
#   cpu.jsonl       NoOp and traced pairs at two rates, two trials, the
#                   C client burning 20 us a span more (--planted-ns)
#   disconnect.jsonl  a traced run whose satellites go down and come back
#   base.jsonl      the same plan as cpu.jsonl without the planted cost:
#                   the baseline
#   verdicts.jsonl  ltb-assert's over cpu.jsonl; base.jsonl carries its own
#   report.html     ltb-plot report --baseline base.jsonl of the rest
# The plans use the calibration record of tests/fixtures/plot rather than
# measure one: calibrating on a busy machine may not converge, and the
# report shows whatever CPU the runs used.
setup_file() {
	[[ -z $(why_not_here) ]] || return 0
	command -v chromium >/dev/null || return 0
	local d=$BATS_FILE_TMPDIR
	local cal=$BATS_TEST_DIRNAME/fixtures/plot/calibration.jsonl
	PATH="$(cd "$BATS_TEST_DIRNAME/.." && pwd)/${LTB_BUILD:-build}/bin:$PATH"
	local plan=(--client c --trace both --sps 200,1000 --trials 2 --runtime 0.6
		--label cpu --calibration "$cal")
	ltb-control plan "${plan[@]}" --planted-ns 20000 |
		ltb-sample --plan - -i 0.2 --control-port 0 >"$d/cpu.jsonl" 2>"$d/cpu.err"
	ltb-control plan --client c --trace on --sps 200 --runtime 1.5 \
		--label disconnect --calibration "$cal" |
		ltb-sample --plan - -i 0.2 --satellite-down-at 0.5 --satellite-up-at 1 \
			--control-port 0 >"$d/disconnect.jsonl" 2>"$d/disconnect.err"
	ltb-control plan "${plan[@]}" |
		ltb-sample --plan - -i 0.2 --control-port 0 >"$d/base.jsonl" 2>"$d/base.err"
	# Inconclusive (4) or failed (1) verdicts are verdicts all the same.
	ltb-assert --max-ns-per-span 1000000 --max-cpu 2 "$d/cpu.jsonl" \
		>"$d/verdicts.jsonl" 2>/dev/null || [[ $? == [14] ]]
	ltb-assert --max-ns-per-span 1000000 --max-cpu 2 "$d/base.jsonl" \
		>"$d/base.verdicts" 2>/dev/null || [[ $? == [14] ]]
	cat "$d/base.verdicts" >>"$d/base.jsonl"
	ltb-plot report --baseline "$d/base.jsonl" -o "$d/report.html" "$cal" \
		"$d/cpu.jsonl" "$d/disconnect.jsonl" "$d/verdicts.jsonl" 2>"$d/plot.err"
}

setup() {
	ltb_setup
	skip_if_not_here
	# A test dependency like bats itself: missing, it is a broken setup,
	# not a reason to pass without looking at the page.
	command -v chromium >/dev/null ||
		fail "chromium is not installed: run docker/deps.sh, which installs it with the test dependencies"
	R=$BATS_FILE_TMPDIR/report.html
	[ -s "$R" ] || { cat "$BATS_FILE_TMPDIR"/*.err >&2; false; }
}

# browser ARGS... PAGE: headless Chromium on the file PAGE, its log on
# $TMP/browser.log. A fresh profile each time, no sandbox (tests run as
# root), and a time limit: a browser that hangs fails the test.
browser() {
	local page=${*: -1}
	timeout --kill-after=5 60 chromium --headless --no-sandbox --disable-gpu \
		--user-data-dir="$(mktemp -d "$TMP/profile.XXXXXX")" \
		--no-first-run --disable-extensions --allow-file-access-from-files \
		--enable-logging=stderr --v=0 "${@:1:$#-1}" "file://$page" 2>"$TMP/browser.log"
}

# xpath EXPR: EXPR over the DOM in $TMP/dom.html.
xpath() {
	xmllint --html --xpath "$1" "$TMP/dom.html" 2>/dev/null
}

# page_problems PAGE: what goes wrong when the browser loads PAGE, one a
# line, nothing when all is well: messages on its console (the report has
# no script, so any is one too many), errors the browser logs about the
# page, images that did not decode, and anything the page refers to
# outside itself (the report must need nothing else). The last two are
# asked of the page's DOM by a harness page that frames it.
page_problems() {
	local page=$1 h=$TMP/harness.html
	cat >"$h" <<-EOF
		<!DOCTYPE html><html><body><pre id="problems">not loaded</pre>
		<iframe id="page" src="file://$page" width="1280" height="800"></iframe>
		<script>
		document.getElementById('page').addEventListener('load', function () {
			var out = [], doc = this.contentDocument, all, i, j, a, v;
			if (!doc) {
				out.push('the page cannot be read');
			} else {
				all = doc.querySelectorAll('*');
				for (i = 0; i < all.length; i++) {
					for (j = 0; j < all[i].attributes.length; j++) {
						a = all[i].attributes[j];
						v = a.value.trim();
						if (/^(src|href|xlink:href|srcset|data)$/.test(a.name) &&
						    v !== '' && v.charAt(0) !== '#' && v.indexOf('data:') !== 0)
							out.push('refers outside: <' + all[i].tagName + ' ' + a.name + '="' + v + '">');
					}
				}
				for (i = 0; i < doc.images.length; i++)
					if (!doc.images[i].complete || doc.images[i].naturalWidth === 0)
						out.push('image not shown: ' + doc.images[i].src.slice(0, 80));
			}
			document.getElementById('problems').textContent = out.join('\n') || 'none';
		});
		</script></body></html>
	EOF
	browser --dump-dom "$h" >"$TMP/dom.html" || { echo "chromium failed: $?"; return; }
	grep -F ':CONSOLE' "$TMP/browser.log" || true
	grep -F ':ERROR:' "$TMP/browser.log" | grep -F "file://" || true
	xpath 'string(//pre[@id="problems"])' | grep -vx none || true
}

@test "the check finds a broken script, a missing image and one that does not decode" {
	cat >"$TMP/broken.html" <<-'EOF'
		<!DOCTYPE html><html><body><p>broken on purpose</p>
		<script>no_such_function();</script>
		<img src="missing.png"><img src="data:image/png;base64,AAAA">
		</body></html>
	EOF
	run page_problems "$TMP/broken.html"
	assert_output --partial 'Uncaught ReferenceError: no_such_function is not defined'
	assert_output --partial 'refers outside: <IMG src="missing.png">'
	assert_output --partial "image not shown: file://$TMP/missing.png"
	assert_output --partial 'image not shown: data:image/png;base64,AAAA'
	# and a page that is fine passes it
	echo '<!DOCTYPE html><html><body><img src="data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22 width=%221%22 height=%221%22/%3E"></body></html>' >"$TMP/fine.html"
	run page_problems "$TMP/fine.html"
	assert_output ''
}

@test "the report of a real run loads without errors and needs nothing else" {
	run page_problems "$R"
	assert_output ''
}

@test "the report's DOM holds the four graphs, drawn" {
	browser --dump-dom "$R" >"$TMP/dom.html"
	local g
	for g in disconnect memory cpu dropped; do
		# gnuplot's lines are paths; a graph with data has many, long
		[ "$(xpath "count(//figure[@id='graph-$g']/svg//path[string-length(@d) > 40])")" -ge 5 ]
		[ -n "$(xpath "string(//figure[@id='graph-$g']/figcaption)")" ]
	done
	[ "$(xpath 'count(//svg)')" = 4 ]
	# the axes are labelled in text the browser parsed
	[ "$(xpath "count(//figure[@id='graph-cpu']/svg//text)")" -ge 10 ]
}

@test "the report's DOM has a row per run and per verdict, and says the plan ran whole" {
	browser --dump-dom "$R" >"$TMP/dom.html"
	local d=$BATS_FILE_TMPDIR nruns nverdicts planned
	nruns=$(cat "$d/cpu.jsonl" "$d/disconnect.jsonl" | jq -s 'map(select(.type == "result")) | length')
	nverdicts=$(jq -s length "$d/verdicts.jsonl")
	planned=$(cat "$d/cpu.jsonl" "$d/disconnect.jsonl" | jq -s 'map(select(.type == "plan_end") | .planned) | add')
	[ "$nruns" = 9 ]
	[ "$(xpath "count(//h2[.='Runs']/following-sibling::table[1]//tr[td])")" = "$nruns" ]
	[ "$(xpath "count(//h2[.='Machine noise']/following-sibling::table[1]//tr[td])")" = "$nruns" ]
	[ "$(xpath "count(//h2[.='Verdicts']/following-sibling::table[1]//tr[td])")" = "$nverdicts" ]
	[ "$(xpath "string((//h2[.='Verdicts']/following-sibling::table[1]//tr[td])[1]/td[1])")" = plan ]
	[ "$(xpath 'string(//p[@id="plan"]/@class)')" = "plan complete" ]
	[ "$(xpath 'string(//p[@id="plan"])')" = "The plan ran whole: $planned of $planned planned runs, none failed." ]
	[ "$(xpath 'count(//table[@id="plan-table"]//tr[td])')" = 2 ]
	[ "$(xpath "string(//h2[.='Calibration']/following-sibling::table[1]//tr[th='client']/td)")" = c ]
}

@test "the report's DOM gives the cost per span with its interval, and the baseline's beside it" {
	browser --dump-dom "$R" >"$TMP/dom.html"
	local d=$BATS_FILE_TMPDIR v b
	v=$(jq 'select(.gate == "max-ns-per-span")' "$d/verdicts.jsonl")
	b=$(jq 'select(.gate == "max-ns-per-span")' "$d/base.verdicts")
	pm() {
		echo "$(fit_num "$(jq .value <<<"$1")") ± $(fit_num "$(jq '(.ci95[1] - .ci95[0]) / 2' <<<"$1")")"
	}
	[ "$(xpath 'string(//td[@id="cost-ns"])')" = "$(pm "$v")" ]
	row='//table[@id="baseline-table"]//tr[th="cost per span (ns/span)"]'
	[ "$(xpath "string($row/td[1])")" = "$(pm "$v")" ]
	[ "$(xpath "string($row/td[2])")" = "$(pm "$b")" ]
	[[ $(xpath "string($row/td[3])") == [+-]*% ]]
	# the rates both ran, and the gates both judged
	[ "$(xpath "count(//table[@id='baseline-table']//tr[starts-with(th, 'tracer CPU at ')])")" = 2 ]
	[ "$(xpath "string(//table[@id='baseline-table']//tr[th='gate plan']/td[3])")" = 0 ]
}

@test "the report paints: a screenshot is a PNG of the window, far from blank" {
	browser --screenshot="$TMP/shot.png" --window-size=1280,2000 --hide-scrollbars "$R"
	[ "$(head -c 8 "$TMP/shot.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
	# IHDR: width and height, big-endian, at bytes 16 to 23
	[ "$(od -An -tu1 -j16 -N8 "$TMP/shot.png" | tr -s ' ' | sed 's/^ //')" = "0 0 5 0 0 0 7 208" ]
	# A blank page of the same size compresses to a few KB; graphs and
	# tables do not.
	echo '<!DOCTYPE html><html><body></body></html>' >"$TMP/blank.html"
	browser --screenshot="$TMP/blank.png" --window-size=1280,2000 --hide-scrollbars "$TMP/blank.html"
	[ "$(stat -c %s "$TMP/shot.png")" -gt $((5 * $(stat -c %s "$TMP/blank.png"))) ]
	# LTB_KEEP_SCREENSHOT=FILE keeps it for a person to look at.
	[[ -z ${LTB_KEEP_SCREENSHOT:-} ]] || cp "$TMP/shot.png" "$LTB_KEEP_SCREENSHOT"
}
