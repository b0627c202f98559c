#!/usr/bin/env bats
# The manual pages: `make install` puts them where man(1) finds them, each
# renders without a warning, and each says what the program it documents
# really does, checked against that program rather than against a list
# kept here: every flag and subcommand a tool's --help prints is in its
# page, every key of a real control message and of the reference client's
# summary line is in ltb-client(7), and every field of records the tools
# really write is in ltb-records(5). So a flag or field added without its
# page fails here.

load test_helper

LTB_NOT_UNDER_SANITIZER="the pages are text and the binaries are only asked for their --help and a few records, which the plain stage checks the same"

TOOLS="ltb-satellite ltb-control ltb-sample ltb-assert ltb-plot"

setup_file() {
	[[ -z $(why_not_here) ]] || return 0
	export ROOT=$BATS_FILE_TMPDIR/root
	export MANROOT=$ROOT/usr/local/share/man
	make -C "$LTB_ROOT" install B="$LTB_BUILD_DIR" PREFIX=/usr/local \
		DESTDIR="$ROOT" >/dev/null
}

# page NAME: the source of a page in the tree.
page() {
	case $1 in
	ltb-client) echo "$LTB_ROOT/clients/ltb-client.7" ;;
	ltb-records) echo "$LTB_ROOT/common/records/ltb-records.5" ;;
	*) echo "$LTB_ROOT/bin/$1.1" ;;
	esac
}

# rendered FILE: the page as man(1) shows it, in plain ASCII (so a flag's
# "\-" is "-" again), so wide that no line breaks inside a word.
rendered() {
	LC_ALL=C MANWIDTH=1000 MAN_KEEP_FORMATTING= man -l -Tascii "$1" 2>/dev/null |
		col -b
}

# names_all FILE WORD...: every WORD is in the rendered FILE, as a word of
# its own (--cert is not found inside --cert-out); prints the missing ones.
names_all() {
	local file=$1 text w missing=()
	shift
	text=$(rendered "$file")
	for w in "$@"; do
		grep -qE -- "(^|[^-A-Za-z0-9_])$(sed 's/[.[\*^$]/\\&/g' <<<"$w")([^-A-Za-z0-9_]|$)" \
			<<<"$text" || missing+=("$w")
	done
	if ((${#missing[@]})); then
		echo "$file does not name: ${missing[*]}"
		return 1
	fi
}

# help_words TOOL: the flags (--long and -x) and subcommands TOOL's --help
# prints, one a line.
help_words() {
	local help
	help=$("$1" --help)
	grep -oE -- '--[a-z][a-z0-9-]*[a-z0-9]' <<<"$help"
	grep -oE -- '(^|[][ ,(|])-[A-Za-z]([] ,)|]|$)' <<<"$help" |
		grep -oE -- '-[A-Za-z]'
	# Subcommands: the word after the program's name on a usage line,
	# when it is lower-case words (ltb-plot's disconnect|memory|...).
	grep -E "^(usage:)? *$1 [a-z]" <<<"$help" |
		sed -E "s/^(usage:)? *$1 ([a-z|]+).*/\2/" | tr '|' '\n'
}

@test "make install puts the seven pages under share/man/man{1,5,7}" {
	local t
	for t in $TOOLS; do
		assert [ -f "$MANROOT/man1/$t.1" ]
		cmp "$(page "$t")" "$MANROOT/man1/$t.1"
	done
	assert [ -f "$MANROOT/man7/ltb-client.7" ]
	assert [ -f "$MANROOT/man5/ltb-records.5" ]
	# man(1) finds them by name, as after make install.
	run man -M "$MANROOT" -w ltb-sample
	assert_success
	assert_output "$MANROOT/man1/ltb-sample.1"
	run man -M "$MANROOT" -w 7 ltb-client
	assert_output "$MANROOT/man7/ltb-client.7"
	run man -M "$MANROOT" -w 5 ltb-records
	assert_output "$MANROOT/man5/ltb-records.5"
}

# warnings FILE: what groff (every warning, -ww, for a UTF-8 and an ASCII
# terminal) and man --warnings say about FILE on stderr; nothing for a
# clean page.
warnings() {
	local t
	for t in utf8 ascii; do
		groff -mandoc -ww -z -T$t "$1" 2>&1 >/dev/null
	done
	LC_ALL=C MANWIDTH=80 man --warnings -l "$1" 2>&1 >/dev/null
}

@test "the warning check finds a page's mistake" {
	{ cat "$(page ltb-plot)"; printf '.Zz no such macro\n'; } >"$TMP/ltb-plot.1"
	run warnings "$TMP/ltb-plot.1"
	assert_output --partial "macro 'Zz' not defined"
}

@test "every page renders without a warning, with the sections of a manual page" {
	local p f out s
	for p in $TOOLS ltb-client ltb-records; do
		f=$(page "$p")
		run warnings "$f"
		assert_output ""
		out=$(rendered "$f")
		for s in NAME SYNOPSIS DESCRIPTION "SEE ALSO"; do
			grep -qx "$s" <<<"$out" || fail "$f has no $s section"
		done
		grep -A1 -x NAME <<<"$out" | grep -qE "^ +$p -- " ||
			fail "$f's NAME is not $p"
	done
	# Section 1 pages say how each tool exits, 0 to 4.
	for p in $TOOLS; do
		out=$(rendered "$(page "$p")")
		grep -qx "EXIT STATUS" <<<"$out" || fail "$p.1 has no EXIT STATUS"
		for s in 0 1 2 3 4; do
			sed -n '/^EXIT STATUS$/,/^[A-Z]/p' <<<"$out" | grep -qE "^[[:space:]]+$s([[:space:]]|$)" ||
				fail "$p.1's EXIT STATUS does not say what $s means"
		done
	done
}

@test "the flag check finds a flag missing from a page" {
	# The check the next test makes, on a page with a flag taken out: it
	# must be able to fail.
	sed '/^\.It Fl -fetch-timeout/d' \
		"$(page ltb-sample)" >"$TMP/ltb-sample.1"
	mapfile -t words < <(help_words ltb-sample | sort -u)
	run names_all "$TMP/ltb-sample.1" "${words[@]}"
	assert_failure
	assert_output --partial -- "does not name: --fetch-timeout"
}

@test "every flag and subcommand a tool's --help prints is in its page" {
	local t words
	for t in $TOOLS; do
		mapfile -t words < <(help_words "$t" | sort -u)
		# The check reads something: a tool has flags.
		((${#words[@]} > 2)) || fail "$t --help: no flags found"
		names_all "$(page "$t")" "${words[@]}"
	done
	# ltb-control's and ltb-plot's subcommands are among the words.
	help_words ltb-control | grep -qx serve
	help_words ltb-plot | grep -qx report
}

@test "ltb-client(7) names every key of a real control message and of the reference client's summary" {
	ltb-control serve --control-port 0 --timeout 10 --trace --repeat 12 \
		--satellite-ports 9 >"$TMP/fetched" 2>"$TMP/serve.err" &
	started $!
	wait_for 5 grep -q 'LTB_CONTROL_URL=' "$TMP/serve.err"
	url=$(sed -n 's/.*LTB_CONTROL_URL=\([^ ]*\).*/\1/p' "$TMP/serve.err" | head -n 1)
	# The reference client, started by hand as serve is for: NoOp keeps
	# it off the network; its summary line is its last.
	sed 's/"Trace":true/"Trace":false/' <<<"$(curl -sS "$url")" >"$TMP/msg.json"
	wait_for 5 test -s "$TMP/fetched"
	mapfile -t keys < <(jq -r '.message | keys[]' "$TMP/fetched")
	((${#keys[@]} >= 20)) || fail "the message has only ${#keys[@]} keys"
	names_all "$(page ltb-client)" "${keys[@]}"
	run env LTB_CONTROL_URL="file://$TMP/msg.json" "$LTB_ROOT/clients/c/run"
	assert_success
	mapfile -t keys < <(tail -n 1 <<<"$output" | jq -r 'keys[]')
	((${#keys[@]} >= 5)) || fail "the summary has only ${#keys[@]} keys"
	names_all "$(page ltb-client)" "${keys[@]}"
	# And the plan's own keys of a control record.
	ltb-control plan --client c --trace both --sps 100 --runtime 1 \
		--calibration "$LTB_ROOT/tests/fixtures/plot/calibration.jsonl" >"$TMP/plan"
	mapfile -t keys < <(jq -rs '[.[] | keys[]] | unique[]' "$TMP/plan")
	names_all "$(page ltb-client)" "${keys[@]}"
}

@test "ltb-records(5) names every field of the records the tools write" {
	export LTB_CACHE_DIR=$TMP/cache
	local f=$(page ltb-records)
	# ready and stats: a satellite group with every transport.
	ltb-satellite --ports 0 --admin-port 0 --udp 0 --resp 0 \
		>"$TMP/sat" 2>"$TMP/sat.err" &
	local pid=$!
	started "$pid"
	wait_for 10 test -s "$TMP/sat"
	kill -TERM "$pid"
	wait_gone "$pid" 5
	# calibration (one ltb-control calibrate wrote: calibrating here takes
	# longer than the rest of the file, and cannot decide on a busy
	# machine), then control, result, plan_end and verdict: a short real
	# benchmark of the reference client, NoOp and traced.
	cp "$LTB_ROOT/tests/fixtures/plot/calibration.jsonl" "$TMP/cal"
	ltb-control plan --client c --trace both --sps 100 --runtime 1 \
		--calibration "$TMP/cal" >"$TMP/plan"
	ltb-sample --plan "$TMP/plan" --control-port 0 >"$TMP/res" 2>/dev/null
	ltb-assert --max-cpu 5 --max-overhead 5 --max-dropped 0 \
		--expect 'exit_status == 0' "$TMP/res" >"$TMP/verdicts" 2>/dev/null
	ltb-control serve --control-port 0 --timeout 10 >"$TMP/fetched" 2>"$TMP/serve.err" &
	started $!
	wait_for 5 grep -q 'LTB_CONTROL_URL=' "$TMP/serve.err"
	curl -sS "$(sed -n 's/.*LTB_CONTROL_URL=\([^ ]*\).*/\1/p' "$TMP/serve.err" | head -n 1)" >/dev/null
	wait_for 5 test -s "$TMP/fetched"
	cat "$TMP/sat" "$TMP/cal" "$TMP/plan" "$TMP/res" "$TMP/verdicts" \
		"$TMP/fetched" >"$TMP/all"
	# Each kind of record was written.
	run jq -rs '[.[].type] | unique | join(" ")' "$TMP/all"
	assert_output "calibration control fetched plan_end ready result stats verdict"
	mapfile -t types < <(jq -r .type "$TMP/all" | sort -u)
	names_all "$f" "${types[@]}"
	# Their fields, and those of the objects inside them (not the maps
	# keyed by reason or path, nor the control message's keys, which are
	# ltb-client(7)'s).
	mapfile -t fields < <(jq -rs '
		def k: if type == "object" then keys[] else empty end;
		[ .[] | select(.type != "control" and .type != "fetched") | k ],
		[ .[] | select(.type == "control") | keys[] | select(test("^[a-z]")) ],
		[ .[] | select(.type == "result") | (.noise, .fingerprint) | k ],
		[ .[] | select(.type == "verdict") |
			(.worst, .rates[]?, .cost_per_span) | k ],
		[ .[] | select(.type == "ready") | .protocols[] | k ],
		[ .[] | select(.type == "stats") |
			(.ports[], .protocols[], .memory_budget, .kept) | k ]
		| .[]' "$TMP/all" | sort -u)
	((${#fields[@]} > 100)) || fail "only ${#fields[@]} fields found"
	names_all "$f" "${fields[@]}"
}
