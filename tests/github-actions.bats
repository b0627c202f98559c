#!/usr/bin/env bats
# README's "Use ltb in GitHub Actions": the workflow between its
# <!-- begin/end .github/workflows/ltb.yml --> markers, read as YAML (on
# PyYAML) for its triggers, jobs and matrix, and then its jobs run here as
# GitHub would run them in the ltb image: each machine in a directory of
# its own standing for the tracer's repository (ltb/clients/mytracer, the C
# client under another name), the image's PATH being this build's tools and
# .circleci/ (the Dockerfile puts gates.sh and graphs.sh there), at the
# smallest scale (LTB_SCALE=0.03). actions/checkout is that directory;
# upload-artifact and download-artifact copy to and from a directory of
# artifacts, one per name, as GitHub keeps them.

load test_helper

LTB_NOT_UNDER_SANITIZER="it runs the README's workflow on the plain tools, as the plain stage does"
LTB_NOT_IN_FRESH_ROOT="it needs nothing a fresh machine lacks: the plain stage runs it"

setup_file() {
	[[ -z $(why_not_here) ]] || return 0
	export LTB_CACHE_DIR=$BATS_FILE_TMPDIR/cache
	export WORKFLOW=$BATS_FILE_TMPDIR/ltb.yml
	export GHA_ARTIFACTS=$BATS_FILE_TMPDIR/artifacts
	export GHA_STEPS=$BATS_FILE_TMPDIR/gha-steps
	readme_workflow >"$WORKFLOW"
	gha_steps_tool >"$GHA_STEPS"
	# The client calibrated once for every job here, with short runs
	# (ltb-control.bats tests calibrating): the jobs' steps run in full,
	# but each would otherwise calibrate afresh. The cache is by client
	# name, so under the name the jobs use.
	LTB_CLIENTS_DIR=$(machine calibrate)/ltb/clients \
		ltb-control calibrate --client mytracer --runtime 1 >/dev/null 2>&1 || true
}

# readme_workflow: the README's workflow, its 4-space indent taken off.
readme_workflow() {
	sed -n '/^<!-- begin \.github\/workflows\/ltb\.yml -->$/,/^<!-- end \.github\/workflows\/ltb\.yml -->$/p' \
		"$LTB_ROOT/README.md" | sed '1d; $d; s/^    //'
}

# gha_steps_tool: a Python program, `gha-steps WORKFLOW JOB [MATRIX-JSON]`,
# that prints a bash script running the job's steps here: run: steps in
# order with the workflow's default shell as GitHub runs it (bash:
# `bash --noprofile --norc -eo pipefail FILE`), later ones skipped after a
# failure unless `if: always()`; ${{ matrix.X }} replaced, any other
# expression refused (so a step that needs one is seen); checkout,
# upload-artifact and download-artifact as the header says. The script
# exits with the first failed step's status.
gha_steps_tool() {
	cat <<-'PY'
		import json, re, shlex, sys
		import yaml
		wf = yaml.safe_load(open(sys.argv[1]))
		job = wf["jobs"][sys.argv[2]]
		matrix = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
		def expr(s):
		    def one(m):
		        e = m.group(1).strip()
		        if e.startswith("matrix.") and e[7:] in matrix:
		            return str(matrix[e[7:]])
		        sys.exit("gha-steps: cannot evaluate ${{ %s }} here" % e)
		    return re.sub(r"\$\{\{(.*?)\}\}", one, str(s))
		shell = ((wf.get("defaults") or {}).get("run") or {}).get("shell")
		shell = ((job.get("defaults") or {}).get("run") or {}).get("shell", shell)
		shells = {"bash": "bash --noprofile --norc -eo pipefail", None: "sh -e", "sh": "sh -e"}
		if shell not in shells:
		    sys.exit("gha-steps: shell %r: not bash or sh" % shell)
		q = shlex.quote
		out = ["#!/bin/bash", "set -u", "__status=0", "__tmp=$(mktemp -d) || exit 3",
		       "trap 'rm -rf \"$__tmp\"' EXIT",
		       "__failed() { [ \"$__status\" = 0 ] && __status=$1; echo \"gha-steps: step failed (exit $1)\" >&2; }"]
		env = {}
		for scope in (wf, job):
		    env.update(scope.get("env") or {})
		for k, v in env.items():
		    out.append("export %s=%s" % (k, q(expr(v))))
		for n, step in enumerate(job["steps"], 1):
		    cond = str(step.get("if", "success()")).strip()
		    if cond == "always()":
		        guard = "true"
		    elif cond == "success()":
		        guard = "[ \"$__status\" = 0 ]"
		    else:
		        sys.exit("gha-steps: step %d: if: %s: not always() or success()" % (n, cond))
		    senv = " ".join("%s=%s" % (k, q(expr(v))) for k, v in (step.get("env") or {}).items())
		    with_ = {k: expr(v) for k, v in (step.get("with") or {}).items()}
		    if "run" in step:
		        what = "run: " + expr(step.get("name", step["run"]))
		        out.append("printf '%%s\\n' %s >\"$__tmp/%d.sh\"" % (q(expr(step["run"])), n))
		        body = "env %s %s \"$__tmp/%d.sh\"" % (senv, shells[shell], n)
		    elif str(step.get("uses", "")).startswith("actions/checkout@"):
		        what, body = "checkout: the current directory", "true"
		    elif str(step.get("uses", "")).startswith("actions/upload-artifact@"):
		        name, path = with_.get("name", "artifact"), with_["path"]
		        what = "upload-artifact %s: %s" % (name, path)
		        # v4: a name is uploaded once a run; a directory's files go at the top.
		        body = ("[ ! -e \"$GHA_ARTIFACTS\"/%s ] || { echo \"gha-steps: artifact %s exists\" >&2; exit 1; };"
		                " [ -e %s ] || { echo \"gha-steps: upload-artifact: no %s\" >&2; exit 1; };"
		                " mkdir -p \"$GHA_ARTIFACTS\"/%s && if [ -d %s ]; then cp -a %s/. \"$GHA_ARTIFACTS\"/%s/;"
		                " else cp -a %s \"$GHA_ARTIFACTS\"/%s/; fi"
		                % (q(name), name, q(path), path, q(name), q(path), q(path), q(name), q(path), q(name)))
		    elif str(step.get("uses", "")).startswith("actions/download-artifact@"):
		        path = with_.get("path", ".")
		        if "name" in with_:
		            what = "download-artifact %s: %s" % (with_["name"], path)
		            body = "mkdir -p %s && cp -a \"$GHA_ARTIFACTS\"/%s/. %s/" % (q(path), q(with_["name"]), q(path))
		        else:
		            pat = with_.get("pattern", "*")
		            merge = with_.get("merge-multiple", "false").lower() == "true"
		            what = "download-artifact %s: %s%s" % (pat, path, " (merged)" if merge else "")
		            dst = q(path) + ("" if merge else "/\"${a##*/}\"")
		            body = ("n=0; for a in \"$GHA_ARTIFACTS\"/%s; do [ -d \"$a\" ] || continue; mkdir -p %s &&"
		                    " cp -a \"$a\"/. %s/ || exit 1; n=$((n + 1)); done;"
		                    " [ \"$n\" -gt 0 ] || { echo \"gha-steps: no artifact matches %s\" >&2; exit 1; }"
		                    % (pat, dst, dst, pat))
		    else:
		        sys.exit("gha-steps: step %d: %r: not a step this runner knows" % (n, step))
		    out.append("if %s; then echo %s >&2; (%s) || __failed $?; fi"
		               % (guard, q("gha-steps: step %d: %s" % (n, what)), body))
		out.append("exit \"$__status\"")
		print("\n".join(out))
	PY
}

# wf JQ-FILTER: the workflow as JSON, filtered (YAML's `on:` key, which
# PyYAML reads as true, kept as "on").
wf() {
	/usr/bin/python3 -c 'import json, sys, yaml
w = yaml.safe_load(open(sys.argv[1]))
if True in w: w["on"] = w.pop(True)
print(json.dumps(w))' "$WORKFLOW" | jq -c "$1"
}

# machine NAME: a fresh directory standing for one runner's checkout of the
# tracer's repository: ltb/clients/mytracer is the C client, its binary
# beside its run script as in the image. Prints its path.
machine() {
	local dir=$BATS_FILE_TMPDIR/machines/$1
	rm -rf "$dir"
	mkdir -p "$dir/ltb/clients/mytracer"
	cp "$LTB_ROOT/clients/c/run" "$dir/ltb/clients/mytracer/run"
	cp "$LTB_BUILD_DIR/clients/c/client" "$dir/ltb/clients/mytracer/client"
	echo "$dir"
}

# run_gha JOB DIR [MATRIX-JSON]: the job's steps in DIR, with the image's
# PATH (this build's tools and .circleci/) and nothing else of this
# checkout, at LTB_SCALE=0.03; sets status, output and stderr, and prints
# stderr for when the test fails.
run_gha() {
	local job=$1 dir=$2 matrix=${3:-'{}'}
	/usr/bin/python3 "$GHA_STEPS" "$WORKFLOW" "$job" "$matrix" >"$dir.steps.sh" || return 2
	run --separate-stderr env -u LTB_BUILD -u LTB_CLIENTS_DIR \
		PATH="$LTB_BUILD_DIR/bin:$LTB_ROOT/.circleci:$(system_path)" LTB_SCALE=0.03 \
		bash -c 'cd "$1" && exec bash "$2"' _ "$dir" "$dir.steps.sh"
	echo "$stderr"
}

# run_gates_once: the gates job, on its own machine, once per file (its
# artifact is what the draw job reads the verdicts from). One-second runs
# on a shared 2-core machine: a CPU figure's gate (max-cpu, max-overhead,
# min-throughput) may fail on noise, which fails the job (exit 1) as it
# would in GitHub, and its verdicts are uploaded all the same (if:
# always()); those are printed, and any other failure, or a tool's, fails
# here. tests/gates.bats tests the verdicts themselves.
run_gates_once() {
	[[ -f $BATS_FILE_TMPDIR/gates.done ]] && return 0
	local dir
	rm -rf "$GHA_ARTIFACTS/gates"
	dir=$(machine gates)
	run_gha gates "$dir"
	if [[ $status == 1 ]]; then
		jq -c 'select(.pass != true) | {gate, summary}' "$GHA_ARTIFACTS"/gates/*.verdicts >&3 || return 1
		jq -r 'select(.pass != true) | .gate' "$GHA_ARTIFACTS"/gates/*.verdicts |
			grep -Evq '^(max-cpu|max-overhead|min-throughput)$' && return 1
	elif [[ $status != 0 ]]; then
		return 1
	fi
	touch "$BATS_FILE_TMPDIR/gates.done"
}

@test "the README's workflow: the gates on every push, the graphs by hand after them, sharded, drawn last" {
	[[ -s $WORKFLOW ]]
	run wf '.on | keys | sort'
	assert_output '["push","workflow_dispatch"]'
	run wf '.jobs | keys | sort'
	assert_output '["draw","gates","graph"]'
	# Every job in the ltb image the repository variable names.
	run wf '[.jobs[].container.image] | unique'
	assert_output '["${{ vars.LTB_IMAGE }}:latest"]'
	# The gates on every push (no condition); the graphs only when started
	# by hand, after the gates; the drawing after every shard.
	run wf '.jobs.gates | has("if")'
	assert_output false
	run wf '.jobs.graph.if'
	assert_output --regexp "github\.event_name == 'workflow_dispatch'"
	run wf '[.jobs.graph.needs] | flatten'
	assert_output '["gates"]'
	run wf '[.jobs.draw.needs] | flatten'
	assert_output '["graph"]'
	# Every experiment, each on as many shards as the run step divides it
	# into: shard I of N, I from 0 to N-1.
	run wf '.jobs.graph.strategy.matrix.experiment | sort'
	assert_output '["cpu","disconnect","dropped","memory"]'
	local shards n
	shards=$(wf '.jobs.graph.strategy.matrix.shard')
	n=$(jq length <<<"$shards")
	[[ $n -ge 2 ]]
	assert_equal "$shards" "$(jq -nc "[range($n)]")"
	run wf '.jobs.graph.steps[] | select(.run) | .run'
	assert_output --regexp "graphs\.sh run \\$\\{\\{ matrix\.experiment \\}\\} .*--shard \\$\\{\\{ matrix\.shard \\}\\}/$n "
	# The gates' JUnit and JSON-lines are uploaded even when a gate failed.
	run wf '.jobs.gates.steps[] | select(.uses // "" | startswith("actions/upload-artifact@")) | [.if, .with.path]'
	assert_output '["always()","gates-out"]'
	run wf '.jobs.gates.steps[] | select(.run) | .run'
	assert_output --regexp 'gates\.sh .*-o gates-out'
	# Each shard its own artifact; the drawing downloads them merged.
	run wf '.jobs.graph.steps[] | select(.uses // "" | startswith("actions/upload-artifact@")) | .with.name'
	assert_output --regexp 'matrix\.experiment.*matrix\.shard'
	run wf '.jobs.draw.steps[] | select(.uses // "" | startswith("actions/download-artifact@")) | .with | select(.pattern) | ."merge-multiple"'
	assert_output true
	run wf '.defaults.run.shell'
	assert_output '"bash"'
}

@test "the README's gates job passes here for the C client, at the smallest scale, and uploads its verdicts" {
	run_gates_once
	local g
	for g in memory dropped cpu throughput; do
		grep -q '<testsuite' "$GHA_ARTIFACTS/gates/$g.xml"
		[[ -s $GHA_ARTIFACTS/gates/$g.jsonl ]]
		# A verdict for every check of the gate, its plan complete.
		run jq -r 'select(.gate == "plan") | .pass' "$GHA_ARTIFACTS/gates/$g.verdicts"
		assert_output true
	done
	run jq -r '.gate' "$GHA_ARTIFACTS"/gates/{memory,dropped,cpu,throughput}.verdicts
	assert_output "$(printf '%s\n' plan max-memory-growth plan max-dropped max-invalid \
		plan max-cpu max-overhead plan min-throughput)"
	# Runs of the client under its tracer's name, at the scale asked.
	run jq -r 'select(.type == "result") | "\(.client) \(.runtime)"' "$GHA_ARTIFACTS/gates/memory.jsonl"
	assert_output "$(printf 'mytracer 1\nmytracer 3')"
}

@test "the README's graph job on its shards and the draw job: every run once, merged and drawn" {
	[[ -x $LTB_BUILD_DIR/bin/ltb-plot ]] || skip "ltb-plot is not built: nothing to draw with"
	run_gates_once
	# One experiment on every shard the matrix has (the others are the
	# same step with another name, and cost minutes).
	local k dir n
	n=$(wf '.jobs.graph.strategy.matrix.shard | length')
	# (k, not i: bats' run counts in an i of its own.)
	for ((k = 0; k < n; k++)); do
		dir=$(machine "graph-memory-$k")
		run_gha graph "$dir" "{\"experiment\": \"memory\", \"shard\": $k}"
		assert_success
		[[ -s $GHA_ARTIFACTS/ltb-out-memory-$k/memory/shard-$k.jsonl ]]
	done
	dir=$(machine draw)
	run_gha draw "$dir"
	assert_success
	# Every rate ran once, on one machine or another, and succeeded.
	run jq -r 'select(.type == "result") | .target_sps' "$dir/ltb-out/memory.jsonl"
	assert_equal "$(sort -n <<<"$output" | tr '\n' ' ')" '100 500 1000 2000 '
	run jq -r 'select(.error != null) | .error' "$dir/ltb-out/memory.jsonl"
	assert_output ''
	[[ $(head -c 4 "$GHA_ARTIFACTS/graphs/memory.png" | od -An -c | tr -d ' ') == '211PNG' ]]
	grep -qi '<html' "$GHA_ARTIFACTS/graphs/report.html"
	# The report has the gates' verdicts, downloaded from the gates job.
	grep -q 'max-memory-growth' "$GHA_ARTIFACTS/graphs/report.html"
}

@test "the workflow runner here fails a job where GitHub would, and keeps its always-steps" {
	cat >"$TMP/wf.yml" <<-'EOF'
		on: push
		defaults:
		  run:
		    shell: bash
		jobs:
		  j:
		    runs-on: ubuntu-latest
		    steps:
		      - run: echo "${{ matrix.who }}" > who
		      - run: (exit 3) | cat
		      - run: touch skipped
		      - if: always()
		        run: touch always
	EOF
	mkdir -p "$TMP/job"
	/usr/bin/python3 "$GHA_STEPS" "$TMP/wf.yml" j '{"who": "ltb"}' >"$TMP/j.sh"
	run bash -c 'cd "$1" && bash "$2"' _ "$TMP/job" "$TMP/j.sh"
	assert_failure 3
	[[ $(cat "$TMP/job/who") == ltb ]]
	[[ ! -e $TMP/job/skipped && -e $TMP/job/always ]]
	# An expression it cannot evaluate is refused, not passed to the shell.
	sed -i 's/matrix.who/secrets.TOKEN/' "$TMP/wf.yml"
	run /usr/bin/python3 "$GHA_STEPS" "$TMP/wf.yml" j '{}'
	assert_failure
	assert_output --partial 'cannot evaluate ${{ secrets.TOKEN }}'
}
