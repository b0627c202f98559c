# test_helper.bash: what every bats file under tests/ loads.
#
# Each test gets its own temp dir and HOME; processes a test starts go
# through `started` so teardown ends exactly those (by PID, TERM then KILL)
# and nothing outlives the test. Satellites listen on ports the kernel
# picks, so tests never collide with each other or with anything else.

LTB_ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
# LTB_BUILD names the build tree (make B=...) relative to the root; clients
# read it too, so it is left as it is.
case ${LTB_BUILD:-build} in
/*) LTB_BUILD_DIR=$LTB_BUILD ;;
*) LTB_BUILD_DIR=$LTB_ROOT/${LTB_BUILD:-build} ;;
esac
export PATH="$LTB_BUILD_DIR/bin:$LTB_BUILD_DIR/tests/tools:$PATH"

bats_require_minimum_version 1.5.0
load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

setup() {
	ltb_setup
	skip_if_not_here
}

# Each stage of .ci/run runs the whole suite, and the three must stay
# under 30 minutes, so a file that adds nothing in one of them says so:
# LTB_NOT_IN_FRESH_ROOT (its reason) skips it in the fresh root
# (tests/fresh-root/run sets LTB_FRESH_ROOT): it needs nothing a fresh
# machine lacks. LTB_NOT_UNDER_SANITIZER skips it in the sanitizer build
# (make test exports LTB_SANITIZED): it tests scripts and the plain tree
# it builds itself, not our binaries under the sanitizers.
# why_not_here prints the reason this build skips the file, or nothing; a
# setup_file with costly work returns early on it.
why_not_here() {
	if [[ -n ${LTB_FRESH_ROOT:-} && -n ${LTB_NOT_IN_FRESH_ROOT:-} ]]; then
		echo "in the fresh root: $LTB_NOT_IN_FRESH_ROOT"
	elif [[ -n ${LTB_SANITIZED:-} && -n ${LTB_NOT_UNDER_SANITIZER:-} ]]; then
		echo "built with -fsanitize=$LTB_SANITIZED: $LTB_NOT_UNDER_SANITIZER"
	fi
}

skip_if_not_here() {
	local why
	why=$(why_not_here)
	[[ -z $why ]] || skip "$why"
}

# skip_in_fresh_root WHY: one test of a file that otherwise runs in
# tests/fresh-root/run is left to the normal run there, WHY saying which
# step of the fresh root already did the same (make demo runs gates.sh and
# graphs.sh), so that .ci/run keeps to its 30 minutes.
skip_in_fresh_root() {
	if [[ -n ${LTB_FRESH_ROOT:-} ]]; then
		skip "in the fresh root: $1"
	fi
}

# skip_if_sanitized WHAT: a test whose point is a CPU figure (WHAT) is
# skipped in a build with sanitizers (make test exports LTB_SANITIZED):
# their own cost lands on the clients and tools measured, and a 2-core
# machine's noise on top of it fails a 0.05 tolerance now and then. The
# plain build of the same .ci/run checks the figure.
skip_if_sanitized() {
	if [[ -n ${LTB_SANITIZED:-} ]]; then
		skip "built with -fsanitize=$LTB_SANITIZED: $1 is checked on the plain build"
	fi
}

teardown() {
	ltb_teardown
}

ltb_setup() {
	TMP=$BATS_TEST_TMPDIR
	export HOME=$TMP/home
	mkdir -p "$HOME"
	: >"$TMP/pids"
}

ltb_teardown() {
	local pid
	while read -r pid; do
		kill -TERM "$pid" 2>/dev/null || true
	done <"$TMP/pids"
	while read -r pid; do
		wait_gone "$pid" 5 || kill -KILL "$pid" 2>/dev/null || true
	done <"$TMP/pids"
}

# started PID: teardown ends it.
started() {
	echo "$1" >>"$TMP/pids"
}

# wait_gone PID SECONDS: 0 once PID has exited, 1 if still there.
wait_gone() {
	local i
	for ((i = 0; i < $2 * 100; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.01
	done
	return 1
}

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds.
wait_for() {
	local limit=$1 i
	shift
	for ((i = 0; i < limit * 100; i++)); do
		"$@" && return 0
		sleep 0.01
	done
	return 1
}

# start_satellite [ARGS...]: an ltb-satellite on two free ports (ARGS may
# say otherwise). Sets SAT_PID, SAT_OUT (its stdout), SAT_READY (the
# ready record), SAT_PORTS (array), SAT_PORT (the first) and SAT_ADMIN.
start_satellite() {
	SAT_OUT=$TMP/satellite.$RANDOM.out
	ltb-satellite --ports 0,0 --admin-port 0 "$@" >"$SAT_OUT" 2>"$SAT_OUT.err" &
	SAT_PID=$!
	started "$SAT_PID"
	if ! wait_for 10 test -s "$SAT_OUT"; then
		echo "ltb-satellite did not get ready:" >&2
		cat "$SAT_OUT.err" >&2
		return 1
	fi
	SAT_READY=$(head -n 1 "$SAT_OUT")
	SAT_ADMIN=$(jq -r .admin_url <<<"$SAT_READY")
	mapfile -t SAT_PORTS < <(jq -r '.ports[]' <<<"$SAT_READY")
	SAT_PORT=${SAT_PORTS[0]}
}

# report_url [PORT]: the report endpoint of a satellite port.
report_url() {
	echo "http://127.0.0.1:${1:-$SAT_PORT}/api/v2/reports"
}

# post_report FILE [PORT] [CURL ARGS...]: POST a report body; prints the
# HTTP status. The answer's body goes to $TMP/answer.
post_report() {
	local file=$1 port=${2:-$SAT_PORT}
	shift 2 || shift $#
	curl -sS -o "$TMP/answer" -w '%{http_code}' \
		-H 'Content-Type: application/octet-stream' \
		--data-binary "@$file" "$@" "$(report_url "$port")"
}

# sat_stat FIELD: one field of the satellite's /stats, by jq path.
sat_stat() {
	curl -sS "$SAT_ADMIN/stats" | jq -r "$1"
}

# mkreport_file NAME ARGS...: a report body made by mkreport, in $TMP.
mkreport_file() {
	local name=$1
	shift
	mkreport "$@" >"$TMP/$name"
	echo "$TMP/$name"
}

# rss_peak PID: the process's peak resident memory, in KiB.
rss_peak() {
	awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"
}

# tag_env: run what follows with LTB_TEST_TAG set, so every process it
# starts, at any depth, can be found again through /proc/PID/environ.
tag_env() {
	export LTB_TEST_TAG="ltb-test-$$-$RANDOM-$BATS_TEST_NUMBER"
}

# tagged_pids: the live processes carrying this test's LTB_TEST_TAG.
tagged_pids() {
	local p
	for p in /proc/[0-9]*; do
		[[ ${p#/proc/} == "$$" || ${p#/proc/} == "$BASHPID" ]] && continue
		grep -qsz "^LTB_TEST_TAG=$LTB_TEST_TAG\$" "$p/environ" 2>/dev/null &&
			echo "${p#/proc/}"
	done
	return 0
}

# assert_no_process_left: nothing started under tag_env is still alive.
assert_no_process_left() {
	local left
	wait_for 5 test -z "$(tagged_pids)" || true
	left=$(tagged_pids)
	if [[ -n $left ]]; then
		ps -o pid,ppid,stat,cmd -p "${left//$'\n'/,}" >&2 || true
		fail "processes left behind: $left"
	fi
}

# results: the result records of ltb-sample's $output, one a line (its
# last record, plan_end, is checked in tests of its own).
results() {
	jq -c 'select(.type == "result")' <<<"$output"
}

# control_record FILE KEY=VALUE...: a control record for ltb-sample --plan,
# NoOp 1 s at 100 sps unless told otherwise (values are JSON).
control_record() {
	local file=$1 kv expr='{"type":"control","v":1,"client":"c","target_sps":100,"runtime":1,"trial":0,"Trace":false,"Work":1000,"Sleep":10000000,"Repeat":100}'
	shift
	for kv in "$@"; do
		expr="$expr | .${kv%%=*} = ${kv#*=}"
	done
	jq -nc "$expr" >"$file"
}

# ---- ltb-plot's report (tests/ltb-plot.bats, tests/ltb-plot-browser.bats)
# fit_num X: X as the report writes a fitted figure (the cost per span and
# its interval): four significant digits, but whole from 10000 on.
fit_num() {
	if awk -v x="$1" 'BEGIN { exit !(x >= 1e4 || x <= -1e4) }'; then
		printf '%.0f' "$1"
	else
		printf '%.4g' "$1"
	fi
}
# ---- end of ltb-plot's report

# ---- CI runners (tests/circleci.bats, tests/github-actions.bats; system_path also tests/docker.bats)
# Both run a CI's jobs here as its machines would, with nothing of this
# checkout on PATH but what the job itself builds or the image would hold.

# system_path: PATH without this checkout's directories.
system_path() {
	local IFS=: p out=()
	for p in $PATH; do
		[[ $p == "$LTB_ROOT" || $p == "$LTB_ROOT"/* ]] || out+=("$p")
	done
	echo "${out[*]}"
}
# ---- end of CI runners
