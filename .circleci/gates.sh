#!/bin/sh
# gates.sh: the original LightStep Benchmarks regression tests, each one
# shell pipeline of the ltb tools. CI calls it on every push; tracer
# maintainers can run it against their own client.
#
#   memory      500 sps for 100 s uses at most 2x the memory of 500 sps for 5 s
#   dropped     no span dropped at 100 and at 300 sps
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
# MIN_THROUGHPUT, AT_OVERHEAD and MAX_DROPPED in the environment.
#
# Exit: 0 every gate passed; 1 a gate failed; 2 usage; 3 a tool failed.
set -u

client=c
scale=${LTB_SCALE:-1}
out=gates-out
while getopts c:s:o:h opt; do
	case $opt in
	c) client=$OPTARG ;;
	s) scale=$OPTARG ;;
	o) out=$OPTARG ;;
	h) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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

sample() {
	ltb-sample --client "$client" --control-port 0 "$@"
}

# gate NAME ASSERT-FLAGS...: results from stdin, verdicts to files.
gate() {
	name=$1
	shift
	tee "$out/$name.jsonl" |
		ltb-assert --junit "$out/$name.xml" "$@" >"$out/$name.verdicts"
}

status=0
note() {
	# Keep the worst exit: a tool failure (3 or more) over a failed gate.
	[ "$1" -gt "$status" ] && status=$1
	return 0
}

for g in $gates; do
	echo "gates.sh: $g gate, client $client, scale $scale" >&2
	case $g in
	memory)
		{
			sample --trace --sps 500 --runtime "$(rt 5)"
			sample --trace --sps 500 --runtime "$(rt 100)"
		} | gate memory --max-memory-growth "${MAX_MEMORY_GROWTH:-2}"
		;;
	dropped)
		sample --trace --sps 100,300 --runtime "$(rt 30)" |
			gate dropped --max-dropped "${MAX_DROPPED:-0}"
		;;
	cpu)
		sample --trace both --trials 3 --sps 500 --runtime "$(rt 30)" |
			gate cpu --max-cpu "${MAX_CPU:-0.8}" \
			--max-overhead "${MAX_OVERHEAD:-0.10}"
		;;
	throughput)
		sample --trace both --sps 1000,2000,3000,4000 --runtime "$(rt 10)" |
			gate throughput --min-throughput "${MIN_THROUGHPUT:-3000}" \
			--at-overhead "${AT_OVERHEAD:-0.10}"
		;;
	esac
	note $?
done
exit "$status"
