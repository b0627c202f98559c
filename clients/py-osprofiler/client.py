# client.py: the ltb client for OpenStack's OSProfiler (Debian's
# python3-osprofiler 3.4.3), reporting with its redis driver (over Debian's
# python3-redis) to the RESP port of the satellites.
#
# It follows the client contract, ltb-client(7), for a tracer: import the
# library (osprofiler.notifier, osprofiler.profiler, the redis driver and
# redis-py) first, then GET the control message once from LTB_CONTROL_URL
# (http://, https:// or file://; the measurement window opens there), then
# build the notifier from it:
#
#   notifier.create("redis://" + SatelliteHost + ":" + SatelliteRespPorts[0],
#                   project="ltb", service="py-osprofiler", host=..., conf={})
#
# behind a thin wrapper that counts the sends that raise (a refused
# connection, a reset one: the library's exceptions never stop the loop),
# set with notifier.set().
#
# The unit is the trace point: OSProfiler's start and stop of one traced
# section, two messages (LPUSH osprofiler_opt:<base_id> <json> each). Per
# loop: a new trace (profiler.clean() then profiler.init(key): init alone
# keeps the trace of the thread's profiler, when there is one), then a
# chain of up to six nested points as the other clients' chains of spans,
# each point's start with an info of NumTags entries, Work floating-point
# multiplications inside each; Repeat counts points, so a loop of six
# makes six. NumLogs has no OSProfiler equivalent (a point carries an info
# at its start and at its stop, nothing in between): it is ignored. The
# sleep debt: Sleep ns per point, paid SleepInterval ns at a time after
# each chain, the rest at the end, as the C clients do.
#
# Trace false: the profiler is never initialised, so profiler.start and
# profiler.stop do nothing (the reference says so of an uninitialised
# profiler), and no notifier is made; the same work and sleep run.
#
# NoFlush: nothing to do. redis-py sends each LPUSH synchronously and
# waits for its answer, so nothing is ever buffered to flush.
#
# stdout carries exactly one JSON line, printed at exit:
#   {"type":"client","v":1,"client":"py-osprofiler","trace":B,
#    "unit":"trace point","spans_sent":N,"dropped":D,"points_complete":C,
#    "messages_sent":M,"messages_failed":F,"send_errors":{"ConnectionError":n},
#    "tracer":"osprofiler 3.4.3 redis-py 4.3.4"}
# spans_sent is the points made (Repeat), as the C clients count; dropped
# the points one of whose two messages failed; points_complete (N - D)
# those whose start and stop both went; messages_* count LPUSHes. tracer
# is "noop" without Trace. Human messages go to stderr.
#
# Exit: 0 done (lost points are data: "dropped" says so); 1 the notifier
# could not be made; 2 the control message could not be fetched, parsed or
# used; 127 the Debian packages are missing.

import json
import os
import socket
import sys
import time

PROG = "py-osprofiler"
DEFAULT_CONTROL_URL = "http://127.0.0.1:8024/control"
FETCH_TIMEOUT_S = 10
POINTS_PER_CHAIN = 6
# A chain, outermost first: a client request served through a stack (the
# C client's operations).
NAMES = ("client/request", "server/handle", "auth/verify", "cache/lookup",
         "db/query", "db/read")
# The first info entries are what instrumented services set; more are
# numbered (common/client/ltb_client_loop.c's tags).
FIRST_TAGS = (
    ("http.url", "https://example.com/api/v1/resource/12345"),
    ("http.method", "GET"), ("http.status_code", "200"),
    ("component", "net/http"), ("span.kind", "server"),
    ("peer.hostname", "db-03.internal"), ("db.type", "postgresql"),
    ("user.id", "u-00012345"), ("region", "us-east-1"), ("error", "false"),
)
MAX_PORTS = 64


def warn(msg):
    sys.stderr.write("%s: %s\n" % (PROG, msg))
    sys.stderr.flush()


def die(code, msg):
    warn(msg)
    sys.exit(code)


# Before the fetch: module load is start-up, not the tracer's cost.
try:
    import urllib.request
    import importlib.metadata
    import redis
    from osprofiler import notifier
    from osprofiler import profiler
    from osprofiler.drivers import redis_driver  # noqa: F401 (the driver)
except ImportError as e:
    die(127, "cannot import OSProfiler's redis driver (%s) with %s: "
        "install Debian's python3-osprofiler and python3-redis "
        "(docker/deps.sh does)" % (e, sys.executable))


class ControlError(Exception):
    pass


def fetch(url):
    """The control message's text. file:// too; never through a proxy:
    the controller is local."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=FETCH_TIMEOUT_S) as r:
            status = getattr(r, "status", None)
            if status is not None and status != 200:
                raise ControlError("HTTP status %d" % status)
            return r.read(1 << 20).decode("utf-8")
    except ControlError:
        raise
    except Exception as e:
        reason = getattr(e, "reason", e)
        raise ControlError(str(reason))


def parse_control(text):
    """The message's keys this client uses, checked as
    common/run/ltb_control_msg.c checks them: absent keys keep their
    defaults, present ones must have the right type."""
    try:
        obj = json.loads(text)
    except ValueError as e:
        raise ControlError("not JSON: %s" % e)
    if not isinstance(obj, dict):
        raise ControlError("not a JSON object")
    c = {"Trace": False, "Sleep": 0, "SleepInterval": 100000000, "Work": 0,
         "Repeat": 0, "NoFlush": False, "NumTags": 10,
         "Protocol": "osprofiler", "Tls": False,
         "SatelliteHost": "127.0.0.1", "SatelliteRespPorts": []}

    def boolean(k):
        if k in obj:
            if not isinstance(obj[k], bool):
                raise ControlError("%s: not true or false" % k)
            c[k] = obj[k]

    def uint(k, top):
        if k in obj:
            v = obj[k]
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            if isinstance(v, bool) or not isinstance(v, int) or \
                    v < 0 or v > top:
                raise ControlError("%s: not an integer from 0 to %d"
                                   % (k, top))
            c[k] = v

    for k in ("Trace", "NoFlush", "Tls"):
        boolean(k)
    for k in ("Sleep", "SleepInterval", "Work", "Repeat"):
        uint(k, 2 ** 63 - 1)
    uint("NumTags", 1000)
    if "Protocol" in obj:
        if not isinstance(obj["Protocol"], str):
            raise ControlError("Protocol: not a string")
        c["Protocol"] = obj["Protocol"]
    if "SatelliteHost" in obj:
        h = obj["SatelliteHost"]
        if not isinstance(h, str) or h == "" or len(h) > 63:
            raise ControlError("SatelliteHost: not a host name")
        c["SatelliteHost"] = h
    if "SatelliteRespPorts" in obj:
        p = obj["SatelliteRespPorts"]
        if not isinstance(p, list) or len(p) > MAX_PORTS or not all(
                isinstance(x, int) and not isinstance(x, bool) and
                1 <= x <= 65535 for x in p):
            raise ControlError("SatelliteRespPorts: not a list of up to %d "
                               "ports" % MAX_PORTS)
        c["SatelliteRespPorts"] = p
    if c["Protocol"] != "osprofiler":
        raise ControlError("Protocol %s: this client speaks osprofiler "
                           "(its redis driver) only" % c["Protocol"])
    if c["Tls"]:
        raise ControlError("Tls: the redis driver speaks plain TCP only")
    if c["Trace"] and not c["SatelliteRespPorts"]:
        raise ControlError("SatelliteRespPorts is empty: no RESP port to "
                           "send the trace points to (satellites without "
                           "--resp?)")
    return c


class CountingNotifier:
    """The redis driver's notify, behind a count of what it sent and of
    what raised, by exception class. ok says whether the last send went:
    the chain reads it after each start and stop."""

    def __init__(self, send):
        self.send = send
        self.sent = 0
        self.failed = 0
        self.errors = {}
        self.last_error = None
        self.ok = True

    def __call__(self, info, context=None):
        try:
            self.send(info)
        except Exception as e:
            self.ok = False
            self.failed += 1
            name = type(e).__name__
            self.errors[name] = self.errors.get(name, 0) + 1
            self.last_error = "%s: %s" % (name, e)
            return
        self.ok = True
        self.sent += 1


def make_notifier(c):
    host = c["SatelliteHost"]
    if ":" in host:
        host = "[%s]" % host
    url = "redis://%s:%d" % (host, c["SatelliteRespPorts"][0])
    send = notifier.create(url, project="ltb", service=PROG,
                           host=socket.gethostname(), conf={})
    # create() logs and hands back its no-op when the driver cannot be
    # made: a run that would send nothing and say nothing.
    if getattr(send, "__name__", "") == "_noop_notifier":
        raise RuntimeError("notifier.create(%r) made no redis driver" % url)
    counting = CountingNotifier(send)
    notifier.set(counting)
    return counting


# --- work and sleep ---------------------------------------------------------

_sink = [1.0]


def work(n):
    x = _sink[0]
    for _ in range(n):
        x *= 1.000000001
    _sink[0] = x if x < 1e300 else 1.0


def sleep_ns(ns):
    if ns > 0:
        time.sleep(ns / 1e9)


class Pace:
    """Sleep debt, as ltb_client_pace in common/client/ltb_client_loop.c."""

    def __init__(self, c):
        self.sleep = c["Sleep"]
        self.interval = c["SleepInterval"]
        self.debt = 0

    def add(self, k):
        self.debt += self.sleep * k
        if self.interval == 0:
            sleep_ns(self.debt)
            self.debt = 0
        while self.interval > 0 and self.debt > self.interval:
            sleep_ns(self.interval)
            self.debt -= self.interval

    def finish(self):
        # Paid, not dropped: the run is as long as Repeat points at the
        # planned rate take.
        sleep_ns(self.debt)
        self.debt = 0


def tags(n):
    info = {}
    for i in range(n):
        if i < len(FIRST_TAGS):
            info[FIRST_TAGS[i][0]] = FIRST_TAGS[i][1]
        else:
            info["tag.%d" % i] = "value.%d" % i
    return info


# --- the run ----------------------------------------------------------------

def chain(c, info, counting, depth, left, lost):
    """One point, then the rest of the chain inside it. lost[0] counts the
    points a send of which failed."""
    # start() adds "host" to the info it is given: a copy each, as an
    # instrumented call builds its own.
    profiler.start(NAMES[depth], info=dict(info))
    start_ok = counting is None or counting.ok
    work(c["Work"])
    if left > 1:
        chain(c, info, counting, depth + 1, left - 1, lost)
    profiler.stop()
    if counting is not None and not (start_ok and counting.ok):
        lost[0] += 1


def generate(c, counting):
    info = tags(c["NumTags"])
    pace = Pace(c)
    made = 0
    lost = [0]
    repeat = c["Repeat"]
    while made < repeat:
        k = min(POINTS_PER_CHAIN, repeat - made)
        if c["Trace"]:
            profiler.clean()
            profiler.init("ltb")
        chain(c, info, counting, 0, k, lost)
        made += k
        pace.add(k)
    pace.finish()
    profiler.clean()
    return made, lost[0]


def tracer_name():
    try:
        return "osprofiler %s redis-py %s" % (
            importlib.metadata.version("osprofiler"), redis.__version__)
    except Exception:
        return "osprofiler redis-py %s" % redis.__version__


def main():
    url = os.environ.get("LTB_CONTROL_URL") or DEFAULT_CONTROL_URL
    if len(sys.argv) > 1:
        die(2, "usage: clients/py-osprofiler/run (no arguments; "
            "LTB_CONTROL_URL names the control message)")
    try:
        c = parse_control(fetch(url))
    except ControlError as e:
        die(2, "cannot fetch control message from %s: %s" % (url, e))

    counting = None
    if c["Trace"]:
        try:
            counting = make_notifier(c)
        except Exception as e:
            die(1, "cannot create the OSProfiler notifier: %s" % e)

    made, lost = generate(c, counting)

    summary = {"type": "client", "v": 1, "client": PROG,
               "trace": c["Trace"], "unit": "trace point",
               "spans_sent": made, "dropped": lost,
               "points_complete": made - lost if counting else 0,
               "messages_sent": counting.sent if counting else 0,
               "messages_failed": counting.failed if counting else 0,
               "send_errors": counting.errors if counting else {},
               "tracer": tracer_name() if c["Trace"] else "noop"}
    if counting is not None and counting.failed > 0:
        warn("%d of %d messages failed, the last: %s" % (
            counting.failed, counting.failed + counting.sent,
            counting.last_error))
    try:
        sys.stdout.write(json.dumps(summary, separators=(",", ":")) + "\n")
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        # A reader that went away is a clean stop.
        pass
    # Out without the interpreter's teardown: unloading what
    # osprofiler.drivers imports (eventlet, oslo.*) takes 0.2-0.3 CPU-s,
    # inside the measurement window and in no way the tracer's cost per
    # point (a fixed cost that also keeps ltb-control calibrate from
    # seeing Work's). Nothing is left to flush: redis-py sent every
    # message synchronously, and stdout is flushed above.
    os._exit(0)


if __name__ == "__main__":
    main()
