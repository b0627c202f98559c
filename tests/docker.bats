#!/usr/bin/env bats
# docker/Dockerfile and what it relies on, checked without a Docker engine:
# the stages' shape, the one dependency script in both, and the installed
# tree (`make install ... DESTDIR`) the image is made of: moved where the
# source tree cannot be reached, its tools still find their clients and each
# other.

load test_helper

LTB_NOT_UNDER_SANITIZER="it installs and tests the plain tree, as the plain stage does"

setup_file() {
	[[ -z $(why_not_here) ]] || return 0
	export LTB_CACHE_DIR=$BATS_FILE_TMPDIR/cache
	export DOCKERFILE=$LTB_ROOT/docker/Dockerfile
	# The image's tree, installed once for the file.
	export ROOT=$BATS_FILE_TMPDIR/root
	make -C "$LTB_ROOT" install PREFIX=/usr/local DESTDIR="$ROOT" >/dev/null
}

# instructions [STAGE]: the Dockerfile's instructions, one a line
# (continuation lines joined, comments dropped); only those of STAGE (0 the
# first FROM) when given.
instructions() {
	awk -v want="${1:--1}" '
		/^[[:space:]]*#/ { next }
		{ line = line $0 }
		/\\$/ { sub(/\\$/, "", line); next }
		line ~ /[^[:space:]]/ {
			if (toupper(line) ~ /^[[:space:]]*FROM[[:space:]]/) stage++
			if (want < 0 || stage == want + 1) print line
		}
		{ line = "" }' "$DOCKERFILE"
}

# elsewhere: a copy of the installed tree at an unrelated place; prints the
# copy's /usr/local/bin.
elsewhere() {
	cp -a "$ROOT" "$TMP/elsewhere"
	echo "$TMP/elsewhere/usr/local/bin"
}

@test "the image is built in two stages on Debian bookworm, the registry's unless told" {
	run grep -ciE '^[[:space:]]*FROM[[:space:]]' "$DOCKERFILE"
	assert_output 2
	# The one ARG before the first FROM names the base both stages use.
	run awk 'toupper($1) == "FROM" { exit } toupper($1) == "ARG" { print }' "$DOCKERFILE"
	assert_output 'ARG BASE=debian:bookworm-slim'
	run instructions 0
	assert_line --index 0 'FROM ${BASE} AS build'
	run instructions 1
	assert_line --index 0 'FROM ${BASE}'
}

@test "the build stage sets up with docker/deps.sh --build and installs with DESTDIR" {
	run instructions 0
	assert_line --regexp '^RUN (\./)?docker/deps\.sh --build( |&&|$)'
	refute_output --partial 'deps.sh --runtime'
	# make's own call of deps.sh keeps to the build set too: no test
	# packages, no npm ci of tests/js.
	refute_output --partial 'tests/js'
	assert_line --regexp '^RUN make DEPS=--build( -j[^ ]*)? all'
	assert_line --regexp '^RUN .*make DEPS=--build install PREFIX=/usr/local DESTDIR=/out'
	# The Node client's packages are installed inside the installed tree, so
	# they ship.
	assert_line --regexp '/out/usr/local/share/ltb/clients/js-lightstep/setup'
}

@test "the runtime stage sets up with deps.sh --runtime and runs as a user" {
	run instructions 1
	assert_line --regexp '^RUN .*deps\.sh --runtime'
	refute_line --regexp '^RUN .*(make|gcc|cc) '
	assert_line 'COPY --from=build /out/ /'
	# The last USER is a user of its own, not root.
	local user
	user=$(instructions 1 | awk 'toupper($1) == "USER" { u = $2 } END { print u }')
	[[ -n $user && $user != root && $user != 0 && $user != 0:* ]]
	assert_line --regexp "^RUN .*useradd .*$user$"
	assert_line --regexp '^CMD \['
	# CI services (CircleCI's docker executor) run their own commands.
	refute_line --regexp '^ENTRYPOINT'
}

@test "what the Dockerfile copies from the tree exists, and .dockerignore keeps builds out" {
	local src
	for src in $(instructions | awk 'toupper($1) == "COPY" && $2 !~ /^--from/ {
		for (i = 2; i < NF; i++) if ($i !~ /^--/) print $i }'); do
		[[ $src == . ]] && continue
		[[ -e $LTB_ROOT/$src ]] || fail "COPY $src: no such file in the tree"
	done
	# docker build -f docker/Dockerfile . reads the top-level .dockerignore.
	run grep -vE '^[[:space:]]*(#|$)' "$LTB_ROOT/.dockerignore"
	assert_line --regexp '^/?build\*/?$'
	assert_line --regexp '^(\*\*/)?node_modules/?$'
}

@test "docker/deps.sh --check finds everything installed here" {
	run "$LTB_ROOT/docker/deps.sh" --check
	assert_success
}

@test "the runtime packages provide every library the installed programs link" {
	local runtime closure lib pkg missing=
	runtime=$(sed -n '/^RUNTIME="/,/"$/p' "$LTB_ROOT/docker/deps.sh" | tr -d '"' | sed 's/^RUNTIME=//')
	[[ -n $runtime ]]
	# shellcheck disable=SC2086
	closure=" $(apt-cache depends --recurse --no-recommends --no-suggests \
		--no-conflicts --no-breaks --no-replaces --no-enhances $runtime |
		grep -v '^ ' | sed 's/:.*//' | sort -u | tr '\n' ' ') "
	for lib in $(ldd "$ROOT"/usr/local/bin/* "$ROOT"/usr/local/share/ltb/clients/*/client |
		awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u); do
		pkg=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "/usr$lib" 2>/dev/null ||
			dpkg -S "${lib#/usr}" 2>/dev/null) || { missing="$missing $lib(no package)"; continue; }
		pkg=${pkg%%:*}
		[[ $closure == *" $pkg "* ]] || missing="$missing $lib($pkg)"
	done
	[[ -z $missing ]] || fail "not brought by 'deps.sh --runtime':$missing"
}

@test "installed and moved elsewhere, ltb-sample --help and ltb-satellite run" {
	local bin
	bin=$(elsewhere)
	run env PATH="$(system_path)" "$bin/ltb-sample" --help
	assert_success
	assert_output --partial 'usage: ltb-sample'
	env PATH="$(system_path)" "$bin/ltb-satellite" --ports 0 --admin-port 0 \
		>"$TMP/ready" 2>"$TMP/sat.err" &
	started $!
	wait_for 10 test -s "$TMP/ready" || fail "ltb-satellite: $(cat "$TMP/sat.err")"
	run jq -r '"\(.type) \(.ports | length)"' "$TMP/ready"
	assert_output 'ready 1'
}

@test "installed and moved elsewhere, ltb-sample runs the installed client with its sibling satellites" {
	skip_in_fresh_root "make demo has just run ltb-sample with the C client here, and image-test runs the installed tools in the image; the plain stage runs it"
	local bin
	bin=$(elsewhere)
	# Nothing of the source tree is reachable: not on PATH, not through
	# LTB_CLIENTS_DIR or LTB_BUILD, not by walking up from the binaries.
	cd "$TMP"
	run --separate-stderr env -u LTB_CLIENTS_DIR -u LTB_BUILD PATH="$(system_path)" \
		"$bin/ltb-sample" --client c --sps 100 --runtime 1 --control-port 0
	echo "$stderr"
	assert_success
	run jq -r 'select(.type == "result") | "\(.type) \(.spans_sent) \(.spans_received) \(.error)"' <<<"$output"
	assert_output 'result 100 100 null'
}

@test "the image's gates.sh runs a gate against the installed tools" {
	skip_in_fresh_root "make demo has just run gates.sh here, and image-test runs it in the image; the plain stage runs it"
	local bin
	bin=$(elsewhere)
	cd "$TMP"
	run --separate-stderr env -u LTB_CLIENTS_DIR -u LTB_BUILD PATH="$bin:$(system_path)" \
		"$LTB_ROOT/.circleci/gates.sh" -c c -s 0.01 -o "$TMP/gates" dropped
	echo "$stderr"
	assert_success
	run jq -r '"\(.gate) \(.pass)"' "$TMP/gates/dropped.verdicts"
	assert_output "$(printf '%s\n' 'plan true' 'max-dropped true' 'max-invalid true')"
}

@test "the Node client, set up inside the installed tree, runs from a copy without npm" {
	command -v npm >/dev/null || skip "npm is not installed"
	local dir=$ROOT/usr/local/share/ltb/clients/js-lightstep bin
	# The build stage's last step, then the runtime stage's copy of the tree.
	npm_config_update_notifier=false run "$dir/setup"
	assert_success
	bin=$(elsewhere)
	# The runtime stage has no npm: setup must find its work done.
	mkdir -p "$TMP/nonpm"
	printf '#!/bin/sh\necho "npm called: $*" >&2\nexit 1\n' >"$TMP/nonpm/npm"
	chmod +x "$TMP/nonpm/npm"
	cd "$TMP"
	# What is tested is the installed layout, not calibration: Node's timer
	# sleeps make its calibration slow to converge on a loaded machine, so
	# the run plans from a calibration record made here (1e8 work/s and
	# the sleep that gives 0.7 CPU).
	jq -nc '{type:"calibration",v:1,client:"js-lightstep",target_cpu:0.7,
		sleep_per_work_ns:4.2857,work_per_second:1e8,achieved_cpu:0.7}' \
		>"$TMP/cal.json"
	"$bin/ltb-control" plan --client js-lightstep --calibration "$TMP/cal.json" \
		--sps 100 --runtime 1 >"$TMP/plan.jsonl"
	run --separate-stderr env -u LTB_CLIENTS_DIR -u LTB_BUILD PATH="$TMP/nonpm:$(system_path)" \
		"$bin/ltb-sample" --plan "$TMP/plan.jsonl" --control-port 0
	echo "$stderr"
	assert_success
	run jq -r 'select(.type == "result") | "\(.client) \(.spans_sent) \(.spans_received) \(.error)"' <<<"$output"
	assert_output 'js-lightstep 100 100 null'
}
