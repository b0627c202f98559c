#!/bin/sh
# gates.sh: the original LightStep Benchmarks regression tests, each a run
# of ltb-sample judged by ltb-assert. CI calls it on every push; tracer
# maintainers can run it against their own client.
#
#   memory      500 sps for 100 s uses at most 2x the memory of 500 sps for 5 s
#   dropped     no span dropped (nor arriving invalid) at 100 and 300 sps
#   cpu         calibrated to 0.7 CPU with NoOp at 500 sps, traced stays at or
#               under 0.8, and traced minus NoOp under 0.10 over 3 trials
#   throughput  the tracer reaches 3000 sps before its own CPU (traced minus
#               NoOp) passes 0.10
#
# usage: gates.sh [-c CLIENT] [-s SCALE] [-o DIR] [GATE...]
#   -c CLIENT  client from the registry (default c)
#   -s SCALE   runtime factor, e.g. 0.05 for a quick run; runtimes never go
#              under 1 s (default $LTB_SCALE, else 1: the original's runtimes)
#   -o DIR     where to write GATE.jsonl (results), GATE.verdicts and
#              GATE.xml (JUnit) (default gates-out)
# Limits can be changed through MAX_CPU, MAX_OVERHEAD, MAX_MEMORY_GROWTH,
# MIN_THROUGHPUT, AT_OVERHEAD, MAX_DROPPED and MAX_INVALID in the
# environment. Each stage's results are written whole, then judged, so no
# stage's status is lost in a pipe; the exit is the worst of them all.
#
# Exit: 0 every gate passed; 1 a gate or a run failed, or a plan did not
# finish; 2 usage or bad input; 3 a tool failed (cannot bind, spawn, reach
# a peer); 4 inconclusive (too noisy to decide: neither pass nor fail).
set -u

client=c
scale=${LTB_SCALE:-1}
out=gates-out
case ${1:-} in
--help) set -- -h ;;
esac
while getopts c:s:o:h opt; do
	case $opt in
	c) client=$OPTARG ;;
	s) scale=$OPTARG ;;
	o) out=$OPTARG ;;
	h) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
	*) echo "gates.sh: usage: gates.sh [-c CLIENT] [-s SCALE] [-o DIR] [GATE...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
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

status=0
# note CODE: keep the worst exit of every stage. Worst first: a signal, a
# tool that failed (3), bad input (2), a failed gate or run (1), then
# inconclusive (4), then success.
rank() {
	case $1 in
	0) echo 0 ;; 4) echo 1 ;; 1) echo 2 ;; 2) echo 3 ;; 3) echo 4 ;; *) echo 5 ;;
	esac
}
note() {
	[ "$(rank "$1")" -gt "$(rank "$status")" ] && status=$1
	return 0
}

sample() {
	ltb-sample --client "$client" --control-port 0 "$@"
	note $?
}

# gate NAME ASSERT-FLAGS...: the results in $out/NAME.jsonl judged, verdicts
# to NAME.verdicts and NAME.xml. A stage that gave no verdict at all (its
# tools failed before any record) still leaves a JUnit error saying so.
gate() {
	name=$1
	shift
	ltb-assert --junit "$out/$name.xml" "$@" "$out/$name.jsonl" >"$out/$name.verdicts"
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

for g in $gates; do
	echo "gates.sh: $g gate, client $client, scale $scale" >&2
	rm -f "$out/$g.xml"
	case $g in
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
		sample --trace both --trials 3 --sps 500 --runtime "$(rt 30)" >"$out/cpu.jsonl"
		gate cpu --max-cpu "${MAX_CPU:-0.8}" \
			--max-overhead "${MAX_OVERHEAD:-0.10}"
		;;
	throughput)
		sample --trace both --sps 1000,2000,3000,4000 --runtime "$(rt 10)" >"$out/throughput.jsonl"
		gate throughput --min-throughput "${MIN_THROUGHPUT:-3000}" \
			--at-overhead "${AT_OVERHEAD:-0.10}"
		;;
	esac
done
echo "gates.sh: exit $status" >&2
exit "$status"
