#!/usr/bin/env bats
# .circleci/config.yml: the workflow's shape, read as CircleCI compiles it
# (tests/tools/circleci-steps, on PyYAML), and then its jobs' steps run here,
# each job in its own copy of the tree with nothing of this checkout on PATH,
# at a small scale (LTB_SCALE), so a step that would fail in CircleCI fails
# here: the gate job for the C client, a sharded graph job on two "machines"
# and, once ltb-plot exists, the job that merges the shards and draws.

load test_helper

LTB_NOT_UNDER_SANITIZER="its jobs build and test a plain tree of their own, as the plain stage does"

setup_file() {
	[[ -z $(why_not_here) ]] || return 0
	export LTB_CACHE_DIR=$BATS_FILE_TMPDIR/cache
	export CONFIG=$LTB_ROOT/.circleci/config.yml
	export STEPS=$LTB_ROOT/tests/tools/circleci-steps
	# The workflow's workspace, shared by the jobs run here, as in CircleCI.
	export WORKSPACE=$BATS_FILE_TMPDIR/workspace
	export TEMPLATE=$BATS_FILE_TMPDIR/checkout
	# The C client calibrated once for every job here, with short runs: the
	# jobs' steps run in full, but each would otherwise calibrate afresh
	# (ltb-control.bats tests calibrating).
	ltb-control calibrate --client c --runtime 1 >/dev/null 2>&1 || true
	# The workflow and each job's steps, read once.
	export READ=$BATS_FILE_TMPDIR/read
	mkdir -p "$READ"
	"$STEPS" "$CONFIG" jobs >"$READ/jobs.jsonl" || return 0
	local name
	for name in $(jq -r 'select(.type != "approval") | .name' "$READ/jobs.jsonl"); do
		"$STEPS" "$CONFIG" steps "$name" >"$READ/$name.steps.jsonl" || true
	done
}

# wf_jobs [JQ-FILTER]: the workflow's jobs, matrices expanded, one JSON a line.
wf_jobs() {
	jq -c "${1:-.}" "$READ/jobs.jsonl"
}

# job_steps JOB [JQ-FILTER]: a workflow job's steps, one JSON a line.
job_steps() {
	jq -c "${2:-.}" "$READ/$1.steps.jsonl"
}

# job_commands JOB: the job's run: commands, one a line.
job_commands() {
	jq -r 'select(.step == "run") | .command' "$READ/$1.steps.jsonl"
}

# names_running PATTERN: the workflow jobs with a run: step matching PATTERN
# (an extended regular expression).
names_running() {
	local name
	for name in $(wf_jobs 'select(.type != "approval") | .name' | jq -r .); do
		job_commands "$name" | grep -Eq -- "$1" && echo "$name"
	done
	return 0
}

# system_path (tests/test_helper.bash): PATH without this checkout's
# directories, so jobs find the tools they build, or nothing.

# tree_copy SRC DST: SRC as a commit of it would check out, without asking
# git (the tree may be an unpacked archive, and CircleCI's image has no git
# before deps.sh): every file but .git and what SRC/.gitignore ignores, its
# patterns given to tar (anchored at the top when they hold a slash, as git
# reads them).
tree_copy() {
	local src=$1 dst=$2 p anchored=(--anchored --exclude=./.git) anywhere=(--no-anchored)
	if [[ -f $src/.gitignore ]]; then
		while IFS= read -r p || [[ -n $p ]]; do
			[[ -z $p || $p == '#'* || $p == '!'* ]] && continue
			p=${p%/}
			case $p in
			/*) anchored+=("--exclude=.$p") ;;
			*/*) anchored+=("--exclude=./$p") ;;
			*) anywhere+=("--exclude=$p") ;;
			esac
		done <"$src/.gitignore"
	fi
	mkdir -p "$dst"
	tar -C "$src" "${anchored[@]}" "${anywhere[@]}" -cf - . | tar -C "$dst" -xf -
}

# checkout_template: once per file, a copy of the tree as a commit of it
# would check out (tree_copy), built by make (in parallel: the jobs' own
# `make` is the same build) with nothing of this checkout on PATH. Jobs
# start from copies of it, so their own `make` step has nothing left to do.
# tests/js/node_modules comes along, as a CI cache would, so docker/deps.sh
# needs no network.
checkout_template() {
	[[ -f $TEMPLATE/.built ]] && return 0
	rm -rf "$TEMPLATE"
	tree_copy "$LTB_ROOT" "$TEMPLATE" || return 1
	if [[ -d $LTB_ROOT/tests/js/node_modules ]]; then
		cp -a "$LTB_ROOT/tests/js/node_modules" "$TEMPLATE/tests/js/"
	fi
	(cd "$TEMPLATE" && env -u LTB_BUILD PATH="$(system_path)" make -j"$(nproc)" >/dev/null) ||
		return 1
	touch "$TEMPLATE/.built"
}

# job_checkout NAME: a fresh copy of the built tree for one job (or one
# machine of a parallel job); prints its path.
job_checkout() {
	local dir=$BATS_FILE_TMPDIR/jobs/$1
	checkout_template >&2 || return 1
	rm -rf "$dir"
	mkdir -p "${dir%/*}"
	cp -a "$TEMPLATE" "$dir"
	rm -f "$dir/.built"
	echo "$dir"
}

# run_job JOB DIR [VAR=VALUE...]: run the workflow job's steps in DIR, as
# CircleCI would (circleci-steps script), at LTB_SCALE=0.03; sets status,
# output and stderr. Its stderr is printed, for when the test fails.
run_job() {
	local job=$1 dir=$2
	shift 2
	"$STEPS" "$dir/.circleci/config.yml" script "$job" >"$dir.steps.sh" || return 2
	run --separate-stderr env -u LTB_BUILD PATH="$(system_path)" \
		CIRCLECI_STEPS_WORKSPACE="$WORKSPACE" LTB_SCALE=0.03 "$@" \
		bash -c 'cd "$1" && exec bash "$2"' _ "$dir" "$dir.steps.sh"
	echo "$stderr"
}

# run_graph_shards: the graph_dropped job on two machines, 0/2 and 1/2,
# each persisting to the workspace; once per file.
run_graph_shards() {
	local i dir
	[[ -f $BATS_FILE_TMPDIR/shards.done ]] && return 0
	for i in 0 1; do
		dir=$(job_checkout "graph_dropped.$i") || return 1
		run_job graph_dropped "$dir" CIRCLE_NODE_INDEX=$i CIRCLE_NODE_TOTAL=2
		[[ $status == 0 ]] || return 1
	done
	touch "$BATS_FILE_TMPDIR/shards.done"
}

# ci_scripts: the CI's executable shell scripts, as git has them: every
# file under .circleci/ .ci/ tests/ docker/ with mode 755 and a shell's #!
# line. The clients' run and setup scripts are the client contract, not CI
# scripts, and live elsewhere (clients/).
ci_scripts() {
	local f
	git -C "$LTB_ROOT" ls-files -s -- .circleci .ci tests docker |
		awk '$1 == "100755" { print $4 }' |
		while IFS= read -r f; do
			head -n 1 "$LTB_ROOT/$f" | grep -Eq '^#! */(usr/)?bin/(env +)?(ba|da)?sh( |$)' &&
				echo "$f"
		done
	return 0
}

# help_stubs DIR: DIR/bin holds make, prove, bats, the ltb tools and the
# package tools as stubs that only log their call to DIR/called, so that
# a script's --help can be seen to start nothing.
help_stubs() {
	local c
	mkdir -p "$1/bin"
	for c in make prove bats docker dpkg-query apt-get npm debootstrap chroot mount \
		ltb-sample ltb-control ltb-assert ltb-plot ltb-satellite; do
		printf '#!/bin/sh\necho "%s $*" >>"%s/called"\nexit 0\n' "$c" "$1" >"$1/bin/$c"
		chmod +x "$1/bin/$c"
	done
}

@test "every CI script answers --help and -h with its usage on stdout, and starts nothing" {
	git -C "$LTB_ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1 ||
		skip "not a git checkout: the scripts are enumerated from git"
	help_stubs "$TMP/stubs"
	local f base opt n=0
	for f in $(ci_scripts) ".circleci/graphs.sh run" ".circleci/graphs.sh draw"; do
		base=${f%% *}
		base=${base##*/}
		for opt in --help -h; do
			run --separate-stderr bash -c 'cd "$1" && shift && PATH=$0:$PATH exec "$@"' \
				"$TMP/stubs/bin" "$LTB_ROOT" $f "$opt"
			[[ $status == 0 ]] || fail "$f $opt: exit $status, stderr: $stderr"
			[[ -z $stderr ]] || fail "$f $opt: stderr: $stderr"
			grep -Eiq "^ *usage: .*$base" <<<"$output" ||
				fail "$f $opt: no usage line naming $base on stdout: ${output:0:300}"
		done
		n=$((n + 1))
	done
	[[ ! -e $TMP/stubs/called ]] || fail "--help started: $(cat "$TMP/stubs/called")"
	# .ci/run, tests/run-test, tests/bench/run and the two subcommands at least.
	[[ $n -ge 10 ]]
}

@test "every CI script refuses an unknown option: exit 2, the error on stderr, nothing started" {
	git -C "$LTB_ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1 ||
		skip "not a git checkout: the scripts are enumerated from git"
	help_stubs "$TMP/stubs"
	local f
	for f in $(ci_scripts) ".circleci/graphs.sh run" ".circleci/graphs.sh draw"; do
		run --separate-stderr bash -c 'cd "$1" && shift && PATH=$0:$PATH exec "$@"' \
			"$TMP/stubs/bin" "$LTB_ROOT" $f --no-such-option
		[[ $status == 2 ]] || fail "$f --no-such-option: exit $status, stderr: $stderr"
		[[ -n $stderr ]] || fail "$f --no-such-option: nothing on stderr"
		[[ -z $output ]] || fail "$f --no-such-option: stdout: $output"
	done
	[[ ! -e $TMP/stubs/called ]] || fail "an unknown option started: $(cat "$TMP/stubs/called")"
}

@test "the config is CircleCI 2.1 and every workflow job and step can be read" {
	run "$STEPS" "$CONFIG" jobs
	assert_success
	local name
	for name in $(wf_jobs 'select(.type != "approval") | .name' | jq -r .); do
		run "$STEPS" "$CONFIG" steps "$name"
		assert_success
		# Each run: step is a short command calling the scripts and tools.
		run jq -r 'select(.step == "run") | .command | split("\n") | length' <<<"$output"
		refute_line --regexp '^([3-9]|[1-9][0-9]+)$'
	done
}

@test "approve_make_graphs is an approval job after the gates of every shipped tracer" {
	run wf_jobs 'select(.name == "approve_make_graphs") | .type'
	assert_output '"approval"'
	run wf_jobs 'select(.job == "gates") | .parameters.client'
	assert_output "$(printf '"c"\n"js-lightstep"\n"js-otel"\n"py-osprofiler"')"
	run wf_jobs 'select(.name == "approve_make_graphs") | .requires | sort | join(" ")'
	assert_output '"gates-c gates-js-lightstep gates-js-otel gates-py-osprofiler"'
	# The gates come after the tests.
	run wf_jobs 'select(.job == "gates") | .requires | join(" ")'
	assert_output "$(printf '"build_test"\n"build_test"\n"build_test"\n"build_test"')"
}

@test "a failed gate fails the build for ltb's own tracer; the npm tracer's are recorded" {
	run job_commands gates-c
	assert_line --regexp '^\.circleci/gates\.sh -c c [^|]*$'
	# an inconclusive gate (exit 4) is measured once more before it counts
	assert_line --regexp '^\.circleci/gates\.sh -c c --retries 1 '
	# The npm tracers' jobs record gates.sh's status and pass, whatever
	# it is (a failed gate, usage, a tool, an inconclusive calibration), and
	# say so: approve_make_graphs must never wait on a tracer ltb cannot fix.
	local cmd rc dir client
	for client in js-lightstep js-otel py-osprofiler; do
		cmd=$(job_commands "gates-$client" | grep "gates\\.sh -c $client ")
		[[ -n $cmd ]]
		for rc in 0 1 2 3 4 127; do
			dir=$TMP/job-$client-$rc
			mkdir -p "$dir/.circleci"
			printf '#!/bin/sh\necho "gates.sh $*" >&2\nexit %d\n' "$rc" >"$dir/.circleci/gates.sh"
			chmod +x "$dir/.circleci/gates.sh"
			run --separate-stderr bash -eo pipefail -c "cd \"\$1\" && $cmd" _ "$dir"
			assert_success
			assert_output --regexp "gates\.sh -c $client exited $rc .*not enforced"
			[[ $(cat "$dir/gates-out/$client/gates.exit") == "$rc" ]]
		done
	done
}

@test "every run step keeps a pipeline's worst status: a stage that fails fails the step" {
	local name
	for name in $(wf_jobs 'select(.type != "approval") | .name' | jq -r .); do
		run job_steps "$name" 'select(.step == "run") | (.shell // "") | test("^/bin/bash -eo pipefail")'
		assert_line true
		refute_line false
	done
	# As the compiled script runs them.
	cat >"$TMP/config.yml" <<-'EOF'
		version: 2.1
		executors:
		  e:
		    docker: [{image: debian:bookworm}]
		    shell: /bin/bash -eo pipefail
		jobs:
		  j:
		    executor: e
		    steps:
		      - run: (exit 3) | cat
		workflows:
		  w:
		    jobs: [j]
	EOF
	"$STEPS" "$TMP/config.yml" script j >"$TMP/j.sh"
	mkdir -p "$TMP/job"
	run bash -c 'cd "$1" && bash "$2"' _ "$TMP/job" "$TMP/j.sh"
	assert_failure 3
}

@test "docker/deps.sh installs what the jobs' checkout and tests call" {
	run "$LTB_ROOT/docker/deps.sh" --list
	assert_success
	# CircleCI's checkout step needs git and ssh; these tests need git for
	# nothing, but a person's checkout does.
	local p
	for p in git openssh-client make bats jq curl python3-yaml; do
		assert_line "$p"
	done
}

@test "jobs start from a copy of the tree made without git: no work tree, no git" {
	local src=$TMP/src
	mkdir -p "$src"/{build,build-san/x,ltb-demo,tests/js/node_modules/m,tests/ltb-demo,.git,bin}
	printf '/build*/\nnode_modules/\n/ltb-demo/\n' >"$src/.gitignore"
	printf 'all:\n\t@touch made\n' >"$src/Makefile"
	touch "$src/bin/x.c" "$src/tests/ltb-demo/kept" "$src/build/gone" "$src/.git/HEAD"
	git() { echo "git $*: not to be called" >&2; return 128; }
	export -f git
	LTB_ROOT=$src TEMPLATE=$TMP/template checkout_template
	run bash -c 'cd "$1" && find . | sort' _ "$TMP/template"
	assert_output "$(printf '%s\n' . ./.built ./.gitignore ./Makefile ./bin ./bin/x.c ./made \
		./tests ./tests/js ./tests/js/node_modules ./tests/js/node_modules/m \
		./tests/ltb-demo ./tests/ltb-demo/kept)"
}

@test "every graph job waits for approve_make_graphs and the gates do not" {
	local name graphs gates e
	graphs=$(names_running 'graphs\.sh')
	gates=$(names_running 'gates\.sh')
	# Four experiments and the drawing, four clients' gates.
	[[ $(wc -w <<<"$graphs") -ge 5 ]]
	[[ $(wc -w <<<"$gates") -eq 4 ]]
	for e in disconnect memory cpu dropped; do
		for name in $graphs; do
			job_commands "$name" | grep -Eq "graphs\.sh run $e( |$)" && continue 2
		done
		fail "no job runs the $e experiment"
	done
	for name in $graphs; do
		run wf_jobs "select(.name == \"$name\") | .ancestors | any(. == \"approve_make_graphs\")"
		assert_output true
	done
	for name in $gates build_test; do
		run wf_jobs "select(.name == \"$name\") | .ancestors | any(. == \"approve_make_graphs\")"
		assert_output false
	done
	# The drawing waits for every experiment.
	run wf_jobs 'select(.job == "draw_graphs") | .ancestors | join(" ")'
	for name in $(names_running 'graphs\.sh run'); do
		assert_output --partial "$name"
	done
}

@test "test results are stored for the tests and gates, artifacts for gates and graphs" {
	local name out
	run job_steps build_test 'select(.step == "store_test_results") | .path'
	assert_output --regexp '.'
	for name in $(names_running 'gates\.sh'); do
		# The gates' JUnit files land in the directory given to -o.
		out=$(job_commands "$name" | sed -n 's/.*gates\.sh.* -o \([^ ]*\).*/\1/p')
		[[ -n $out ]]
		run job_steps "$name" 'select(.step == "store_test_results") | .path'
		assert_output "\"$out\""
		run job_steps "$name" 'select(.step == "store_artifacts") | .path'
		assert_output "\"$out\""
	done
	for name in $(names_running 'graphs\.sh'); do
		out=$(job_commands "$name" | sed -n 's/.*graphs\.sh.* -o \([^ ]*\).*/\1/p')
		run job_steps "$name" 'select(.step == "store_artifacts") | .path'
		assert_output --regexp "^\"$out(/|\")"
	done
}

@test "the expensive graph jobs run on several machines, each its own shard" {
	local name e
	for e in cpu dropped; do
		name=$(names_running "graphs\.sh run $e( |$)")
		[[ -n $name ]]
		run wf_jobs "select(.name == \"$name\") | .parallelism > 1"
		assert_output true
	done
	# Every parallel job shards by CircleCI's node index and count, and
	# hands its shard on through the workspace to the drawing.
	for name in $(wf_jobs 'select(.parallelism > 1) | .name' | jq -r .); do
		job_commands "$name" |
			grep -Eq -- '--shard "?\$\{?CIRCLE_NODE_INDEX\}?/\$\{?CIRCLE_NODE_TOTAL\}?'
		run job_steps "$name" 'select(.step == "persist_to_workspace") | .step'
		assert_output '"persist_to_workspace"'
	done
	run job_steps draw_graphs 'select(.step == "attach_workspace") | .step'
	assert_output '"attach_workspace"'
}

@test "nothing in the config scales the runs down: CircleCI runs them at scale 1" {
	run "$STEPS" "$CONFIG" json
	run jq '[.. | objects | select(has("LTB_SCALE"))] | length' <<<"$output"
	assert_output 0
	run grep -nE 'LTB_SCALE=|LTB_SCALE:-[^1]|(gates|graphs)\.sh.* -s [0-9.]' "$CONFIG"
	assert_failure
}

@test "the steps runner fails a job where CircleCI would, and keeps its always-steps" {
	mkdir -p "$TMP/job"
	cat >"$TMP/config.yml" <<-'EOF'
		version: 2.1
		commands:
		  hello:
		    parameters:
		      who: {type: string, default: world}
		    steps:
		      - run: echo "hello << parameters.who >>" > hello
		jobs:
		  j:
		    docker: [{image: debian:bookworm}]
		    parameters:
		      code: {type: integer, default: 3}
		    steps:
		      - checkout
		      - hello: {who: ltb}
		      - run: echo 'export GREETING=hi' >> "$BASH_ENV"
		      - run: echo "$GREETING" > greeting
		      - run: exit << parameters.code >>
		      - run: touch skipped
		      - run: {command: touch always, when: always}
		      - store_artifacts: {path: hello}
		workflows:
		  w:
		    jobs: [j]
	EOF
	"$STEPS" "$TMP/config.yml" script j >"$TMP/j.sh"
	run bash -c 'cd "$1" && bash "$2"' _ "$TMP/job" "$TMP/j.sh"
	assert_failure 3
	[[ $(cat "$TMP/job/hello") == "hello ltb" ]]
	[[ $(cat "$TMP/job/greeting") == hi ]]
	[[ ! -e $TMP/job/skipped && -e $TMP/job/always ]]
}

@test "the gate job's steps pass here for the C client, at a small scale" {
	skip_in_fresh_root "make demo has just run the C client's gates with gates.sh here; the plain stage runs the job"
	local dir
	dir=$(job_checkout gates-c)
	run_job gates-c "$dir"
	# One-second runs on a shared 2-core machine: a gate that failed on
	# noise gets one more try, its verdicts kept in the test's output. A
	# tool failure (exit 2 and up) gets none.
	if [[ $status -eq 1 ]]; then
		jq -c 'select(.pass != true) | {gate, summary, detail}' \
			"$dir"/gates-out/c/*.verdicts >&3 || true
		dir=$(job_checkout gates-c)
		run_job gates-c "$dir"
	fi
	assert_success
	local g
	for g in memory dropped cpu throughput; do
		[[ -s $dir/gates-out/c/$g.jsonl ]]
		grep -q '<testsuite' "$dir/gates-out/c/$g.xml"
	done
	run jq -r '"\(.gate) \(.pass)"' "$dir"/gates-out/c/{memory,dropped,cpu,throughput}.verdicts
	assert_output "$(printf '%s\n' 'plan true' 'max-memory-growth true' \
		'plan true' 'max-dropped true' 'max-invalid true' \
		'plan true' 'max-cpu true' 'max-overhead true' \
		'plan true' 'min-throughput true')"
	# Runs from the tools this job built, at the scale asked.
	run jq -r 'select(.type == "result") | .runtime' "$dir/gates-out/c/memory.jsonl"
	assert_output "$(printf '1\n3')"
	[[ -s $WORKSPACE/gates-out/c/cpu.verdicts ]]
}

@test "a sharded graph job runs on two machines and their shards meet in the workspace" {
	skip_in_fresh_root "make demo has just run graphs.sh's runs here; the plain stage runs the job"
	run_graph_shards
	local i
	for i in 0 1; do
		[[ -s $WORKSPACE/ltb-out/dropped/shard-$i.jsonl ]]
		run jq -r .type "$WORKSPACE/ltb-out/dropped/calibration-$i.jsonl"
		assert_output calibration
	done
	# Each rate ran once, on one machine or the other, and succeeded.
	run jq -r 'select(.type == "result") | .target_sps' "$WORKSPACE"/ltb-out/dropped/shard-{0,1}.jsonl
	assert_equal "$(sort -n <<<"$output" | tr '\n' ' ')" \
		'500 1000 2000 5000 10000 20000 50000 100000 '
	run jq -r 'select(.error != null) | .error' "$WORKSPACE"/ltb-out/dropped/shard-{0,1}.jsonl
	assert_output ''
}

@test "draw_graphs merges the shards and draws the graphs and the report" {
	skip_in_fresh_root "make demo has just drawn the graphs and the report here; the plain stage runs the job"
	checkout_template
	if [[ ! -x $TEMPLATE/build/bin/ltb-plot ]]; then
		skip "ltb-plot is not built yet (no bin/ltb-plot.c): nothing to draw with"
	fi
	run_graph_shards
	local dir
	dir=$(job_checkout draw_graphs)
	run_job draw_graphs "$dir"
	assert_success
	# The shards concatenated in order, the graph drawn, the report written.
	run cat "$dir"/ltb-out/dropped/shard-{0,1}.jsonl
	assert_equal "$(cat "$dir/ltb-out/dropped.jsonl")" "$output"
	[[ $(head -c 4 "$dir/ltb-out/dropped.png" | od -An -c | tr -d ' ') == '211PNG' ]]
	grep -qi '<html' "$dir/ltb-out/report.html"
	# Experiments without data are left out, and said so.
	assert_equal "$(grep -c 'not drawn' <<<"$stderr")" 3
}

# docker_stub DIR: DIR/bin/docker, a fake of the docker CLI (not of ltb):
# each call's arguments a line in DIR/calls (the build's directory after
# it), what `login` read on stdin in DIR/stdin; DOCKER_FAIL=SUBCOMMAND makes
# that subcommand exit 1.
docker_stub() {
	mkdir -p "$1/bin"
	cat >"$1/bin/docker" <<-STUB
		#!/bin/sh
		echo "\$*" >>"$1/calls"
		case \$1 in
		login) cat >>"$1/stdin" ;;
		build) echo "cwd \$PWD" >>"$1/calls" ;;
		esac
		[ "\$1" != "\${DOCKER_FAIL:-}" ]
	STUB
	chmod +x "$1/bin/docker"
}

# publish_job [VAR=VALUE...]: publish_image's steps in a fresh copy of the
# tree (it builds nothing itself: docker does), the docker stub first on
# PATH, none of its variables inherited from here.
publish_job() {
	local dir=$TMP/publish.$RANDOM
	tree_copy "$LTB_ROOT" "$dir"
	rm -rf "$TMP/docker"
	docker_stub "$TMP/docker"
	unset LTB_IMAGE LTB_REGISTRY_USER LTB_REGISTRY_PASSWORD CIRCLE_SHA1
	run_job publish_image "$dir" PATH="$TMP/docker/bin:$(system_path)" "$@"
}

@test "publish_image runs on main only, after the tests and the C tracer's gates, on a remote docker engine" {
	run wf_jobs 'select(.name == "publish_image") | .ancestors | sort | join(" ")'
	assert_output '"build_test gates-c"'
	# Filters are not in circleci-steps' compiled jobs: read as written.
	run bash -c '"$1" "$2" json | jq -c "[.workflows.ltb.jobs[] | objects | .publish_image // empty | .filters.branches.only] | flatten"' \
		_ "$STEPS" "$CONFIG"
	assert_output '["main"]'
	run bash -c '"$1" "$2" json | jq -c "[.workflows.ltb.jobs[] | objects | .[] | .filters? // empty] | length"' \
		_ "$STEPS" "$CONFIG"
	assert_output 1
	# The docker CLI in a small image CircleCI documents for
	# setup_remote_docker, which comes before the step that builds.
	run bash -c '"$1" "$2" json | jq -r ".executors[.jobs.publish_image.executor].docker[0].image"' \
		_ "$STEPS" "$CONFIG"
	assert_output --regexp '^(cimg/base|docker):'
	run job_steps publish_image '.step'
	assert_output --partial "$(printf '"setup_remote_docker"\n"run"')"
	run job_commands publish_image
	assert_output '.circleci/publish.sh'
}

@test "publish_image with its variables unset says it skipped, pushes nothing and passes" {
	publish_job
	assert_success
	assert_output --regexp 'skipped.*LTB_IMAGE LTB_REGISTRY_USER LTB_REGISTRY_PASSWORD'
	[[ ! -e $TMP/docker/calls ]]
	# Any one of the three missing is enough, and named.
	local v all=(LTB_IMAGE=ghcr.io/o/ltb LTB_REGISTRY_USER=u LTB_REGISTRY_PASSWORD=p)
	for v in LTB_IMAGE LTB_REGISTRY_USER LTB_REGISTRY_PASSWORD; do
		publish_job $(printf '%s\n' "${all[@]}" | grep -v "^$v=") CIRCLE_SHA1=abc
		assert_success
		assert_output --regexp "skipped.*: unset in this project: $v "
		[[ ! -e $TMP/docker/calls ]]
	done
}

@test "publish_image logs in on stdin, builds docker/Dockerfile and pushes the commit's tag and latest" {
	local img=registry.example:5000/owner/ltb
	publish_job LTB_IMAGE=$img LTB_REGISTRY_USER=bot LTB_REGISTRY_PASSWORD=s3cret CIRCLE_SHA1=abc123
	assert_success
	assert_output "publish.sh: pushed $img:abc123 and $img:latest"
	run cat "$TMP/docker/calls"
	assert_line --index 0 'login --username bot --password-stdin registry.example:5000'
	assert_line --index 1 "build -f docker/Dockerfile -t $img:abc123 -t $img:latest ."
	assert_line --index 2 --regexp '^cwd .*/publish\.[0-9]+$'
	assert_line --index 3 "push $img:abc123"
	assert_line --index 4 "push $img:latest"
	[[ ${#lines[@]} == 5 ]]
	# The password is in no log: not stdout, not stderr, not an argument.
	refute_output --partial s3cret
	[[ $stderr != *s3cret* ]]
	[[ $(cat "$TMP/docker/stdin") == s3cret ]]
	# A Docker Hub name logs in to Docker Hub: no server named.
	publish_job LTB_IMAGE=owner/ltb LTB_REGISTRY_USER=bot LTB_REGISTRY_PASSWORD=s3cret CIRCLE_SHA1=abc123
	assert_success
	run head -n 1 "$TMP/docker/calls"
	assert_output 'login --username bot --password-stdin'
	# A tag in LTB_IMAGE is refused before docker is asked anything.
	publish_job LTB_IMAGE=owner/ltb:v1 LTB_REGISTRY_USER=bot LTB_REGISTRY_PASSWORD=s3cret CIRCLE_SHA1=abc123
	assert_failure 2
	[[ $stderr == *"bad LTB_IMAGE 'owner/ltb:v1'"* ]]
	[[ ! -e $TMP/docker/calls ]]
}

@test "publish_image fails when docker does, and pushes nothing after a failed build" {
	local f pushes
	# login and build stop it before any push; a failed push before the next.
	for f in login:0 build:0 push:1; do
		publish_job LTB_IMAGE=ghcr.io/o/ltb LTB_REGISTRY_USER=bot LTB_REGISTRY_PASSWORD=p \
			CIRCLE_SHA1=abc DOCKER_FAIL=${f%:*}
		assert_failure 1
		[[ $stderr == *"docker ${f%:*} "*failed* ]]
		refute_output --partial pushed
		pushes=$(grep -c '^push' "$TMP/docker/calls" || true)
		[[ $pushes == "${f#*:}" ]] || fail "DOCKER_FAIL=${f%:*}: $pushes push(es)"
	done
}
