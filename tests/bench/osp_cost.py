#!/usr/bin/python3
# osp_cost.py: what Debian's python3-osprofiler costs the program it
# traces, per trace point, for the py_osprofiler_cost line of tests/bench/run.
#
# Runs --traces traces of --points nested points (profiler.clean(), then
# profiler.init(key): init alone would keep the old trace), each point a
# profiler.Trace with --tags entries in its info, as clients/py-osprofiler
# does, and times them with time.process_time(): this process's own CPU,
# not the server's and not the time spent waiting for its replies. The
# notifier is a no-op (--noop: osprofiler.notifier.set(lambda info: None),
# the library's own cost) or its redis driver (--redis URL: a LPUSH and
# its reply for every start and every stop, to redis-server or to
# ltb-satellite --resp). A few traces first warm up the code and the
# connection, and are not counted.
#
# Run with Debian's /usr/bin/python3 (the one with python3-osprofiler and
# python3-redis). Prints one JSON line: {"type":"osp_cost","notifier":...,
# "traces":T,"points":K,"messages":M,"failed_traces":F,"warmup_points":N,
# "cpu_s":C,"wall_s":W,"cpu_us_per_point":U}: a receiver got K + N points. Exit: 0 ok; 1 some traces failed to
# send; 2 usage; 3 osprofiler or redis cannot be loaded.

import argparse
import json
import sys
import time

PROG = "osp_cost"


def die(code, msg):
    print("%s: %s" % (PROG, msg), file=sys.stderr)
    sys.exit(code)


def bounded(lo, hi):
    def parse(s):
        try:
            v = int(s)
        except ValueError:
            raise argparse.ArgumentTypeError("not a whole number: %r" % s)
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError("%d is not in %d..%d"
                                             % (v, lo, hi))
        return v
    return parse


def args():
    p = argparse.ArgumentParser(
        prog=PROG, description="CPU per OSProfiler trace point, in this "
        "process, with a no-op notifier or the redis driver.")
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--noop", action="store_true",
                     help="a notifier that does nothing")
    how.add_argument("--redis", metavar="URL",
                     help="the redis driver to URL (redis://HOST:PORT)")
    p.add_argument("--traces", type=bounded(1, 10000000), default=2000,
                   help="traces measured (2000)")
    p.add_argument("--points", type=bounded(1, 64), default=6,
                   help="nested points a trace (6)")
    p.add_argument("--tags", type=bounded(0, 1000), default=10,
                   help="entries in each point's info (10)")
    p.add_argument("--warmup", type=bounded(0, 100000), default=50,
                   help="traces before the measure, not counted (50)")
    p.add_argument("--seconds", type=bounded(1, 600), default=60,
                   help="stop measuring after this long (60)")
    return p.parse_args()


def nest(profiler, depth, info):
    """depth nested points, each a start and a stop."""
    if depth == 0:
        return
    with profiler.Trace("point%d" % depth, info=info):
        nest(profiler, depth - 1, info)


def main():
    a = args()
    try:
        from osprofiler import notifier, profiler
    except ImportError as e:
        die(3, "cannot load osprofiler (run me with /usr/bin/python3): %s"
            % e)
    if a.noop:
        notifier.set(lambda info: None)
        name = "noop"
    else:
        try:
            notifier.set(notifier.create(a.redis, project="ltb",
                                         service="bench", host="127.0.0.1",
                                         conf={}))
        except Exception as e:
            die(3, "cannot make the redis notifier for %s: %s" % (a.redis, e))
        name = "redis"
    info = {"tag%d" % i: "value%d" % i for i in range(a.tags)}

    failed = 0
    told = False

    def trace():
        nonlocal failed, told
        profiler.clean()
        profiler.init("ltb-bench-key")
        try:
            nest(profiler, a.points, info)
        except Exception as e:
            # One line is enough: the count says how many.
            if not told:
                print("%s: a trace failed: %s" % (PROG, e), file=sys.stderr)
                told = True
            failed += 1

    for _ in range(a.warmup):
        trace()
    failed = 0
    n = 0
    w0 = time.monotonic()
    deadline = w0 + a.seconds
    c0 = time.process_time()
    while n < a.traces and time.monotonic() < deadline:
        trace()
        n += 1
    cpu = time.process_time() - c0
    wall = time.monotonic() - w0
    points = n * a.points
    print(json.dumps({
        "type": "osp_cost", "notifier": name, "traces": n, "points": points,
        "messages": 2 * points, "failed_traces": failed,
        "warmup_points": a.warmup * a.points,
        "cpu_s": round(cpu, 4), "wall_s": round(wall, 4),
        "cpu_us_per_point": round(cpu / points * 1e6, 2),
    }, separators=(",", ":")), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
