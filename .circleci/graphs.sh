#!/bin/sh
# graphs.sh: the original LightStep Benchmarks performance graphs, as
# pipelines of the ltb tools. CI runs each experiment in its own job (the
# expensive ones on several machines, one shard each) after a person approves
# approve_make_graphs, then draws everything in one last job.
#
#   disconnect  50 sps for 180 s: NoOp, traced, satellites down at 30 s, and
#               down at 30 s then back up at 120 s
#   memory      memory over 50 s at 100, 500, 1000 and 2000 sps, traced
#   cpu         CPU against span rate, 100 to 10000 sps, 3 trials, traced and
#               NoOp in pairs
#   dropped     spans dropped and CPU against span rate, 500 to 100000 sps
#
# usage: graphs.sh run EXPERIMENT [-c CLIENT] [-s SCALE] [--shard I/N] [-o DIR]
#        graphs.sh draw [-o DIR] [-g GATES-DIR]
#        graphs.sh [run | draw] -h | --help
#   run   measure one experiment, or this machine's shard of it: runs whose
#         position p in the experiment has p % N == I (a traced run and its
#         NoOp twin always share a shard). Writes DIR/EXPERIMENT/shard-I.jsonl
#         (results) and DIR/EXPERIMENT/calibration-I.jsonl (the calibration
#         this machine used): file names no other shard writes, so shards can
#         be gathered into one directory.
#   draw  concatenate each experiment's shards into DIR/EXPERIMENT.jsonl, draw
#         DIR/EXPERIMENT.png with ltb-plot, and write DIR/report.html from
#         every result, the calibrations and the gates' verdicts found under
#         GATES-DIR (*.verdicts, at any depth). Experiments without data are
#         skipped, with a note.
#   -c CLIENT  client from the registry (default c)
#   -s SCALE   runtime factor, e.g. 0.03 for a quick run; runtimes never go
#              under 1 s (default $LTB_SCALE, else 1: the original runtimes)
#   -o DIR     output directory (default ltb-out)
#   -h, --help this text, alone or after a command
#
# Exit: 0 done; 1 a run failed (its result carries "error") or a graph could
# not be drawn; 2 usage, or nothing to draw; else the worst exit of the tools
# (3 a system failure).
set -u

prog=graphs.sh
usage() {
	echo "usage: $prog run EXPERIMENT [-c CLIENT] [-s SCALE] [--shard I/N] [-o DIR]" >&2
	echo "       $prog draw [-o DIR] [-g GATES-DIR]" >&2
	exit 2
}
# The comment on top of this file, on stdout: the same text for the script
# and each command, which it describes together.
help() {
	sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'
	exit 0
}
EXPERIMENTS="disconnect memory cpu dropped"

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
-h|--help) help ;;
run)
	[ $# -ge 1 ] || usage
	case $1 in -h|--help) help ;; esac
	exp=$1
	shift
	case " $EXPERIMENTS " in
	*" $exp "*) ;;
	*) echo "$prog: unknown experiment '$exp': disconnect, memory, cpu or dropped" >&2; exit 2 ;;
	esac
	;;
draw) ;;
*) echo "$prog: unknown command '$cmd': run or draw" >&2; usage ;;
esac

client=c
scale=${LTB_SCALE:-1}
shard=0/1
out=ltb-out
gates=
while [ $# -gt 0 ]; do
	case $1 in
	-h|--help) help ;;
	-c|-s|-o|-g|--shard) [ $# -ge 2 ] || usage ;;
	esac
	case $cmd/$1 in
	run/-c) client=$2 ;;
	run/-s) scale=$2 ;;
	run/--shard) shard=$2 ;;
	draw/-g) gates=$2 ;;
	*/-o) out=$2 ;;
	*) echo "$prog: unknown argument '$1'" >&2; usage ;;
	esac
	shift 2
done

# ---- draw ------------------------------------------------------------------

if [ "$cmd" = draw ]; then
	[ -d "$out" ] || { echo "$prog: no directory '$out' to draw from" >&2; exit 2; }
	command -v ltb-plot >/dev/null 2>&1 || {
		echo "$prog: ltb-plot not found on PATH" >&2
		exit 3
	}
	status=0
	drawn=
	for e in $EXPERIMENTS; do
		# Shards in numeric order: shard-2 before shard-10.
		count=0
		: >"$out/$e.jsonl" || exit 3
		for k in $(find "$out/$e" -maxdepth 1 -name 'shard-*.jsonl' 2>/dev/null |
			sed -n 's|.*/shard-\([0-9][0-9]*\)\.jsonl$|\1|p' | sort -n); do
			cat "$out/$e/shard-$k.jsonl" >>"$out/$e.jsonl" || exit 3
			count=$((count + 1))
		done
		if [ ! -s "$out/$e.jsonl" ]; then
			rm -f "$out/$e.jsonl"
			echo "$prog: no data for $e in $out/$e: not drawn" >&2
			continue
		fi
		echo "$prog: drawing $out/$e.png from $count shard(s)" >&2
		ltb-plot "$e" -o "$out/$e.png" "$out/$e.jsonl" || {
			rc=$?
			echo "$prog: ltb-plot $e failed (exit $rc)" >&2
			[ "$rc" -gt "$status" ] && status=$rc
		}
		drawn="$drawn $e"
	done
	if [ -z "$drawn" ]; then
		echo "$prog: nothing to draw in $out" >&2
		exit 2
	fi
	# The report: results, the calibrations each machine used, the verdicts.
	set --
	for e in $drawn; do
		set -- "$@" "$out/$e.jsonl"
		for f in "$out/$e"/calibration-*.jsonl; do
			[ -f "$f" ] && set -- "$@" "$f"
		done
	done
	if [ -n "$gates" ]; then
		if [ -d "$gates" ]; then
			for f in $(find "$gates" -name '*.verdicts' -type f | sort); do
				set -- "$@" "$f"
			done
		else
			echo "$prog: no gates directory '$gates': the report has no verdicts" >&2
		fi
	fi
	echo "$prog: writing $out/report.html" >&2
	ltb-plot report -o "$out/report.html" "$@" || {
		rc=$?
		echo "$prog: ltb-plot report failed (exit $rc)" >&2
		[ "$rc" -gt "$status" ] && status=$rc
	}
	exit "$status"
fi

# ---- run -------------------------------------------------------------------

case $shard in
*/*) i=${shard%%/*} n=${shard#*/} ;;
*) i=x n=x ;;
esac
case $i$n in
*[!0-9]*|'') echo "$prog: bad --shard '$shard': expected I/N, 0 <= I < N" >&2; exit 2 ;;
esac
[ "$i" -lt "$n" ] || { echo "$prog: bad --shard '$shard': expected I/N, 0 <= I < N" >&2; exit 2; }
awk -v s="$scale" 'BEGIN { exit !(s + 0 > 0) }' || {
	echo "$prog: bad scale '$scale': a number above 0" >&2
	exit 2
}

# rt SECONDS: a runtime scaled, at least 1 s. at SECONDS: a moment scaled.
rt() {
	awk -v r="$1" -v s="$scale" 'BEGIN { v = r * s; if (v < 1) v = 1; print v }'
}
at() {
	awk -v r="$1" -v s="$scale" 'BEGIN { print r * s }'
}
# One memory and CPU sample a second at scale 1; finer on short runs.
interval=$(awk -v s="$scale" 'BEGIN { v = s; if (v > 1) v = 1; if (v < 0.1) v = 0.1; print v }')

dir=$out/$exp
results=$dir/shard-$i.jsonl
cal=$dir/calibration-$i.jsonl
mkdir -p "$dir" || exit 3
: >"$results" || exit 3
tmp=$(mktemp -d) || exit 3
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "$prog: $exp, client $client, scale $scale, shard $i of $n" >&2
# This machine's calibration, measured once (ltb-control caches it) and kept
# next to the results: each shard's runs are planned from it.
ltb-control calibrate --client "$client" --runtime "$(rt 3)" >"$cal" || {
	rc=$?
	echo "$prog: calibration of $client failed (exit $rc)" >&2
	exit "$rc"
}

# plan NAME PLAN-FLAGS...: write this shard's control records to $tmp/NAME.
plan() {
	name=$1
	shift
	ltb-control plan --client "$client" --calibration "$cal" --label "$exp" \
		"$@" >"$tmp/$name" || {
		rc=$?
		echo "$prog: ltb-control plan failed (exit $rc)" >&2
		exit "$rc"
	}
}
status=0
# sample NAME [LTB-SAMPLE FLAGS...]: run the plan $tmp/NAME, results appended.
sample() {
	name=$1
	shift
	if [ ! -s "$tmp/$name" ]; then
		echo "$prog: no $exp runs in shard $i of $n" >&2
		return 0
	fi
	ltb-sample --plan "$tmp/$name" --control-port 0 --interval "$interval" \
		"$@" >>"$results"
	rc=$?
	# Keep the worst exit: a tool failure (2 or more) over a failed run.
	[ "$rc" -gt "$status" ] && status=$rc
	return 0
}

case $exp in
disconnect)
	# Four runs, each its own plan (the satellites' schedule is an
	# ltb-sample flag); run k of the four goes to the shard k % N.
	runtime=$(rt 180)
	k=0
	for variant in noop traced down downup; do
		if [ $((k % n)) -eq "$i" ]; then
			case $variant in
			noop) trace=off ;;
			*) trace=on ;;
			esac
			plan "$variant" --sps 50 --runtime "$runtime" --trace "$trace"
			case $variant in
			noop|traced) sample "$variant" ;;
			down) sample "$variant" --satellite-down-at "$(at 30)" ;;
			downup) sample "$variant" --satellite-down-at "$(at 30)" \
				--satellite-up-at "$(at 120)" ;;
			esac
		fi
		k=$((k + 1))
	done
	;;
memory)
	plan memory --sps 100,500,1000,2000 --runtime "$(rt 50)" --trace on --shard "$i/$n"
	sample memory
	;;
cpu)
	# Traced then NoOp at each rate and trial; a pair stays on one machine.
	plan cpu --sps 100,200,500,1000,2000,5000,10000 --trials 3 \
		--runtime "$(rt 30)" --trace both --shard "$i/$n"
	sample cpu
	;;
dropped)
	# Paced by the millisecond: at the original's 100 ms the client
	# runs a quarter second at full speed between sleeps, and drops
	# at 40000 sps would be its bursts outrunning 10000 spans per
	# 200 ms, not the tracer.
	plan dropped --sps 500,1000,2000,5000,10000,20000,50000,100000 \
		--runtime "$(rt 30)" --trace on --pacing 1 --shard "$i/$n"
	sample dropped
	;;
esac

runs=$(wc -l <"$results")
failed=$(grep -c '"error":"' "$results")
echo "$prog: $exp shard $i of $n: $runs result(s) in $results, $failed failed" >&2
exit "$status"
