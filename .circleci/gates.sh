#!/bin/sh
# gates.sh: the original LightStep Benchmarks regression tests, each a run
# of ltb-sample judged by ltb-assert. CI calls it on every push; tracer
# maintainers can run it against their own client.
#
#   memory      500 sps for 100 s uses at most 2x the memory of 500 sps for 5 s
#   dropped     no span dropped (nor arriving invalid) at 100 and 300 sps
#   cpu         calibrated to 0.7 CPU with NoOp at 500 sps, traced stays at or
#               under 0.8, and traced minus NoOp under 0.10 over 3 trials; the
#               runs are traced and NoOp pairs at 100 and 500 sps, so that
#               the tracer's CPU per span can be fitted (two span counts)
#   throughput  the tracer reaches 3000 sps before its own CPU (traced minus
#               NoOp) passes 0.10
#
# A metrics client (c-spectator, js-spectator) is gated the same way: its
# runs speak what its clients/NAME/protocol file names, count measurements
# where a tracer's count spans, and the verdicts say so (ns/measurement).
#
# A client of the original LightStep Benchmarks, started with its flags
# (--trace 0|1 --sleep NS ... --num_logs N: the argv contract, ltb-client(7)),
# is gated by its clients/NAME/contract file saying argv, or -k argv. Its
# traced runs count only the spans that reach ltb-sample's own satellites:
# it is not told where they are, and writes to 127.0.0.1:8360-8367.
#
# usage: gates.sh [-c CLIENT] [-k CONTRACT] [-s SCALE] [-o DIR] [--retries K] [GATE...]
#   -c CLIENT    client from the registry (default c)
#   -k CONTRACT, --contract CONTRACT
#                how the client is started: http or argv (default: its
#                clients/NAME/contract file, else http)
#   -s SCALE     runtime factor, e.g. 0.05 for a quick run; runtimes never go
#                under 1 s (default $LTB_SCALE, else 1: the original's runtimes)
#   -o DIR       where to write GATE.jsonl (results), GATE.verdicts,
#                GATE.xml (JUnit) and GATE.bmf.json (Bencher Metric Format),
#                and bmf.json, every gate's figures in one (default gates-out)
#   --retries K  a gate that ends inconclusive (exit 4: too noisy to decide)
#                is measured again, up to K more times (default 0); its
#                last measurement is judged, the earlier ones are kept as
#                GATE.tryN.jsonl and GATE.tryN.verdicts
#   -h, --help   this text
# Limits can be changed through MAX_CPU, MAX_OVERHEAD, MAX_MEMORY_GROWTH,
# MIN_THROUGHPUT, AT_OVERHEAD, MAX_DROPPED and MAX_INVALID in the
# environment. CPU_NS_PER_SPAN, when set, also gates the tracer's CPU-ns
# per span (--max-ns-per-span), inconclusive when other processes and
# steal took more than MAX_NOISE CPU during the runs (ltb-assert's
# --max-noise, 0.5 unless set); CPU_SPS changes the cpu gate's rates
# (default 100,500). Each stage's results are written whole, then judged,
# so no stage's status is lost in a pipe; the exit is the worst of them
# all, and of a gate measured again, its last measurement's.
#
# Exit: 0 every gate passed; 1 a gate or a run failed, or a plan did not
# finish; 2 usage or bad input; 3 a tool failed (cannot bind, spawn, reach
# a peer); 4 inconclusive (too noisy to decide: neither pass nor fail).
set -u

client=c
contract=
scale=${LTB_SCALE:-1}
out=gates-out
retries=0

usage() {
	echo "gates.sh: usage: gates.sh [-c CLIENT] [-k CONTRACT] [-s SCALE] [-o DIR] [--retries K] [GATE...]" >&2
	exit 2
}

# The comment on top of this file, on stdout.
help() {
	awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
	exit 0
}

# Long options come to getopts as "-" with the rest in OPTARG; a long
# option's separate argument is taken by hand. The leading ':' leaves the
# messages to us.
while getopts :c:k:s:o:h-: opt; do
	case $opt in
	c) client=$OPTARG ;;
	k) contract=$OPTARG ;;
	s) scale=$OPTARG ;;
	o) out=$OPTARG ;;
	h) help ;;
	-)
		case $OPTARG in
		help) help ;;
		retries=*) retries=${OPTARG#retries=} ;;
		contract=*) contract=${OPTARG#contract=} ;;
		contract)
			[ "$OPTIND" -le $# ] || {
				echo "gates.sh: --contract needs http or argv" >&2
				usage
			}
			eval "contract=\${$OPTIND}"
			OPTIND=$((OPTIND + 1))
			;;
		retries)
			[ "$OPTIND" -le $# ] || {
				echo "gates.sh: --retries needs a count" >&2
				usage
			}
			eval "retries=\${$OPTIND}"
			OPTIND=$((OPTIND + 1))
			;;
		*) echo "gates.sh: unknown option --$OPTARG" >&2; usage ;;
		esac
		;;
	:) echo "gates.sh: -$OPTARG needs a value" >&2; usage ;;
	*) echo "gates.sh: unknown option -$OPTARG" >&2; usage ;;
	esac
done
shift $((OPTIND - 1))
case $retries in
'' | *[!0-9]*)
	echo "gates.sh: bad retry count '$retries': a whole number, 0 or more" >&2
	exit 2
	;;
esac
case $contract in
'' | http | argv) ;;
*)
	echo "gates.sh: bad contract '$contract': http or argv" >&2
	exit 2
	;;
esac
gates=${*:-memory dropped cpu throughput}
for g in $gates; do
	case $g in
	memory|dropped|cpu|throughput) ;;
	*) echo "gates.sh: unknown gate '$g': memory, dropped, cpu or throughput" >&2; exit 2 ;;
	esac
done
awk -v s="$scale" 'BEGIN { exit !(s + 0 > 0) }' || {
	echo "gates.sh: bad scale '$scale': a number above 0" >&2
	exit 2
}
mkdir -p "$out" || exit 3

# rt SECONDS: a runtime scaled, at least 1 s.
rt() {
	awk -v r="$1" -v s="$scale" 'BEGIN { v = r * s; if (v < 1) v = 1; print v }'
}

# Exits from worst to best: a signal, a tool that failed (3), bad input
# (2), a failed gate or run (1), inconclusive (4), success. Inconclusive
# stays itself: neither a failure nor a pass.
rank() {
	case $1 in
	0) echo 0 ;; 4) echo 1 ;; 1) echo 2 ;; 2) echo 3 ;; 3) echo 4 ;; *) echo 5 ;;
	esac
}
# worse CODE CODE: the worse of two exits.
worse() {
	if [ "$(rank "$1")" -gt "$(rank "$2")" ]; then echo "$1"; else echo "$2"; fi
}

status=0	# the worst of every gate's last measurement
stage=0		# the worst of the current measurement's tools
note() {
	stage=$(worse "$1" "$stage")
}

sample() {
	ltb-sample --client "$client" ${contract:+--contract "$contract"} \
		--control-port 0 "$@"
	note $?
}

# gate NAME ASSERT-FLAGS...: the results in $out/NAME.jsonl judged, verdicts
# to NAME.verdicts and NAME.xml. A stage that gave no verdict at all (its
# tools failed before any record) still leaves a JUnit error saying so.
gate() {
	name=$1
	shift
	ltb-assert --junit "$out/$name.xml" --bmf "$out/$name.bmf.json" "$@" \
		"$out/$name.jsonl" >"$out/$name.verdicts"
	rc=$?
	note $rc
	if [ ! -s "$out/$name.xml" ]; then
		printf '%s\n' '<?xml version="1.0" encoding="UTF-8"?>' \
			"<testsuite name=\"ltb-assert\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\">" \
			"  <testcase classname=\"ltb-assert\" name=\"$name\">" \
			"    <error type=\"$name\" message=\"gates.sh: the $name gate gave no verdict (ltb-assert exit $rc; see the log)\"/>" \
			"  </testcase>" "</testsuite>" >"$out/$name.xml"
	fi
}

# measure GATE: run the gate's sampling, then judge it; the worst exit of
# its tools in $stage.
measure() {
	stage=0
	rm -f "$out/$1.xml" "$out/$1.bmf.json"
	case $1 in
	memory)
		{
			sample --trace --sps 500 --runtime "$(rt 5)"
			sample --trace --sps 500 --runtime "$(rt 100)"
		} >"$out/memory.jsonl"
		gate memory --max-memory-growth "${MAX_MEMORY_GROWTH:-2}"
		;;
	dropped)
		sample --trace --sps 100,300 --runtime "$(rt 30)" >"$out/dropped.jsonl"
		gate dropped --max-dropped "${MAX_DROPPED:-0}" \
			--max-invalid "${MAX_INVALID:-0}"
		;;
	cpu)
		# The original's 3 trials x 30 s at 500 sps, as the same time in
		# pairs at two rates: the cost per span is the slope between them.
		sample --trace both --trials 3 --sps "${CPU_SPS:-100,500}" \
			--runtime "$(rt 15)" >"$out/cpu.jsonl"
		gate cpu --max-cpu "${MAX_CPU:-0.8}" \
			--max-overhead "${MAX_OVERHEAD:-0.10}" \
			${CPU_NS_PER_SPAN:+--max-ns-per-span "$CPU_NS_PER_SPAN"} \
			${CPU_NS_PER_SPAN:+${MAX_NOISE:+--max-noise "$MAX_NOISE"}}
		;;
	throughput)
		sample --trace both --sps 1000,2000,3000,4000 --runtime "$(rt 10)" >"$out/throughput.jsonl"
		gate throughput --min-throughput "${MIN_THROUGHPUT:-3000}" \
			--at-overhead "${AT_OVERHEAD:-0.10}"
		;;
	esac
}

for g in $gates; do
	echo "gates.sh: $g gate, client $client${contract:+ ($contract)}, scale $scale" >&2
	rm -f "$out/$g".try*.jsonl "$out/$g".try*.verdicts
	try=0
	measure "$g"
	# Inconclusive is a question the measurement could not answer: ask
	# it again (the runs, not only the verdict), keeping what was seen.
	while [ "$stage" = 4 ] && [ "$try" -lt "$retries" ]; do
		try=$((try + 1))
		echo "gates.sh: $g: inconclusive, measuring again ($try of $retries)" >&2
		mv "$out/$g.jsonl" "$out/$g.try$try.jsonl"
		mv "$out/$g.verdicts" "$out/$g.try$try.verdicts"
		measure "$g"
	done
	status=$(worse "$stage" "$status")
done
# Every gate's figures in one Bencher Metric Format file, for the services
# that track benchmarks over time (their names never collide: each starts
# with the client and the gate).
rm -f "$out/bmf.json"
set -- "$out"/*.bmf.json
if [ -e "$1" ]; then
	jq -s 'reduce .[] as $f ({}; . * $f)' "$@" >"$out/bmf.json.new" &&
		mv "$out/bmf.json.new" "$out/bmf.json" || {
		echo "gates.sh: cannot merge the gates' BMF files into $out/bmf.json" >&2
		status=$(worse 3 "$status")
	}
fi
echo "gates.sh: exit $status" >&2
exit "$status"
