#!/usr/bin/python3
"""lsthrift.py: LightStep thrift reports (lightstep_thrift.thrift) built and
read with Debian's python3-thrift, the oracle of ltb's thrift walk
(common/collector/proto/ltb_lsthrift_walk.c).

  encode   write one report body (a Thrift binary Report call) to stdout
  decode   read body files; per file one line per span, in wire order,
           "SPAN TRACE REASON" (FNV-1a of the guids in hex, "-" for none;
           REASON an ltb_lsthrift.h name), then "ok N", "malformed" or
           "too_large": tests/tools/lsthriftdecode.c prints the same
  reply    read an answer body: "reply NAME TYPE SEQID RECEIVE TRANSMIT"
           (or "response RECEIVE TRANSMIT" for a bare one)
  mutate   write deterministic mutants of body files, for differentials

The reader is written by field id with TBinaryProtocol's read calls, to the
contract of ltb_lsthrift_walk.h: known fields of the wrong type are
malformed, unknown fields are skipped by type, containers nest at most
MAXDEPTH deep, a string over --max-field is too_large.
"""
import argparse
import os
import random
import sys

from thrift.protocol.TBinaryProtocol import TBinaryProtocol
from thrift.Thrift import TException, TMessageType, TType
from thrift.transport.TTransport import TMemoryBuffer

MAXDEPTH = 24           # LTB_LST_MAXDEPTH
REASONS = ["valid", "no_span_guid", "no_trace_guid", "no_name", "no_start",
           "bad_timestamp", "empty_key"]
VALID_TYPES = {TType.BOOL, TType.BYTE, TType.DOUBLE, TType.I16, TType.I32,
               TType.I64, TType.STRING, TType.STRUCT, TType.MAP, TType.SET,
               TType.LIST}


class Malformed(Exception):
    pass


class TooLarge(Exception):
    pass


# The schema: struct name -> {field id: (type, element type or struct)}.
L, S, ST = TType.LIST, TType.STRING, TType.STRUCT
SCHEMA = {
    "KeyValue": {1: (S, None), 2: (S, None)},
    "NamedCounter": {1: (S, None), 2: (TType.I64, None)},
    "Runtime": {1: (S, None), 2: (TType.I64, None), 3: (S, None),
                4: (L, "KeyValue")},
    "LogRecord": {1: (TType.I64, None), 13: (L, "KeyValue"), 2: (S, None),
                  3: (S, None), 4: (S, None), 5: (S, None), 6: (S, None),
                  7: (TType.I64, None), 8: (S, None), 9: (TType.I64, None),
                  10: (L, S), 11: (S, None), 12: (TType.BOOL, None)},
    "TraceJoinId": {1: (S, None), 2: (S, None)},
    "SpanRecord": {1: (S, None), 11: (S, None), 2: (S, None), 3: (S, None),
                   4: (L, "TraceJoinId"), 5: (TType.I64, None),
                   6: (TType.I64, None), 8: (L, "KeyValue"),
                   9: (TType.BOOL, None), 10: (L, "LogRecord")},
    "MetricsSample": {1: (S, None), 2: (TType.I64, None),
                      3: (TType.DOUBLE, None)},
    "Metrics": {1: (L, "MetricsSample"), 2: (L, "MetricsSample")},
    "ReportRequest": {1: (ST, "Runtime"), 3: (L, "SpanRecord"),
                      4: (L, "LogRecord"), 5: (TType.I64, None),
                      7: (TType.I64, None), 8: (TType.I64, None),
                      9: (L, "NamedCounter"), 10: (L, "LogRecord"),
                      11: (ST, "Metrics")},
    "Auth": {1: (S, None)},
    "Report_args": {1: (ST, "Auth"), 2: (ST, "ReportRequest")},
    "Report_result": {0: (ST, "ReportResponse")},
    "ReportResponse": {1: (L, "Command"), 2: (ST, "Timing")},
    "Command": {1: (TType.BOOL, None)},
    "Timing": {1: (TType.I64, None), 2: (TType.I64, None)},
}


def fnv(b):
    h = 0xcbf29ce484222325
    for c in b:
        h = ((h ^ c) * 0x100000001b3) & 0xffffffffffffffff
    return h


class Reader:
    def __init__(self, data, max_field, out):
        self.data = data
        self.trans = TMemoryBuffer(data)
        self.ip = TBinaryProtocol(self.trans)
        self.max_field = max_field
        self.out = out
        self.spans = 0

    def string(self):
        n = self.ip.readI32()
        if n < 0:
            raise Malformed("negative length")
        if n > self.max_field:
            raise TooLarge()
        return self.trans.readAll(n)

    def value(self, t, sub, depth):
        """A value of type t; sub names a known struct (or a known
        list's elements, as (etype, name)); depth: containers open."""
        ip = self.ip
        if t not in VALID_TYPES:
            raise Malformed("invalid type")
        if t == TType.STRING:
            return self.string()
        if t == TType.STRUCT:
            return self.struct(sub, depth)
        if t in (TType.LIST, TType.SET):
            etype, n = ip.readListBegin()
            if sub is not None and etype != sub[0]:
                raise Malformed("list element type")
            if depth == MAXDEPTH:
                raise Malformed("too deep")
            return [self.value(etype, sub[1] if sub else None, depth + 1)
                    for _ in range(n)]
        if t == TType.MAP:
            ktype, vtype, n = ip.readMapBegin()
            if depth == MAXDEPTH:
                raise Malformed("too deep")
            for _ in range(n):
                self.value(ktype, None, depth + 1)
                self.value(vtype, None, depth + 1)
            return None
        return {TType.BOOL: ip.readBool, TType.BYTE: ip.readByte,
                TType.DOUBLE: ip.readDouble, TType.I16: ip.readI16,
                TType.I32: ip.readI32, TType.I64: ip.readI64}[t]()

    def struct(self, name, depth):
        if depth == MAXDEPTH:
            raise Malformed("too deep")
        known = SCHEMA.get(name, {})
        fields = {}
        while True:
            _, ftype, fid = self.ip.readFieldBegin()
            if ftype == TType.STOP:
                break
            if fid not in known:
                self.value(ftype, None, depth + 1)
                continue
            t, sub = known[fid]
            if ftype != t:
                raise Malformed("field type")
            if t == TType.LIST:
                sub = (TType.STRUCT, sub) if sub in SCHEMA else (sub, None)
            fields[fid] = self.value(ftype, sub, depth + 1)
        if name == "SpanRecord":
            self.span(fields)
        return fields

    def span(self, f):
        sg, tg = f.get(1), f.get(11)
        trace = fnv(tg) if tg else None
        if trace is None:
            for j in f.get(4, []):
                if j.get(1) == b"trace_guid" and j.get(2):
                    trace = fnv(j[2])
                    break
        if not sg:
            why = "no_span_guid"
        elif trace is None:
            why = "no_trace_guid"
        elif not f.get(3):
            why = "no_name"
        elif 5 not in f:
            why = "no_start"
        elif f[5] < 0 or (6 in f and (f[6] < 0 or f[6] < f[5])):
            why = "bad_timestamp"
        elif any(not a.get(1) for a in f.get(8, [])):
            why = "empty_key"
        else:
            why = "valid"
        self.out.write("%s %s %s\n" % ("%016x" % fnv(sg) if sg else "-",
                       "%016x" % trace if trace is not None else "-", why))
        self.spans += 1

    def message(self):
        if not self.data:
            raise Malformed("empty")
        if 0 < self.data[0] < 0x80:
            self.struct("ReportRequest", 0)
        else:
            name, mtype, _ = self.ip.readMessageBegin()
            if name not in ("Report", b"Report"):
                raise Malformed("not Report")
            if mtype not in (TMessageType.CALL, TMessageType.ONEWAY):
                raise Malformed("not a call")
            self.struct("Report_args", 0)
        if self.trans._buffer.tell() != len(self.data):
            raise Malformed("trailing bytes")


def decode(args):
    for path in args.files:
        with open(path, "rb") as f:
            r = Reader(f.read(), args.max_field, sys.stdout)
        try:
            r.message()
            print("ok %d" % r.spans)
        except TooLarge:
            print("too_large")
        except (Malformed, EOFError, UnicodeDecodeError, TException):
            print("malformed")


def reply(args):
    with open(args.file, "rb") as f:
        data = f.read()
    r = Reader(data, 1 << 30, sys.stdout)
    if data and 0 < data[0] < 0x80:
        resp = r.struct("ReportResponse", 0)
        head = "response"
    else:
        name, mtype, seqid = r.ip.readMessageBegin()
        resp = r.struct("Report_result", 0).get(0, {})
        head = "reply %s %d %d" % (name, mtype, seqid)
    if r.trans._buffer.tell() != len(data):
        sys.exit("lsthrift.py: %s: bytes after the answer" % args.file)
    timing = resp.get(2, {})
    print("%s %d %d" % (head, timing.get(1, -1), timing.get(2, -1)))


# --- encode -----------------------------------------------------------

def w_string(op, fid, b):
    op.writeFieldBegin(None, TType.STRING, fid)
    op.writeBinary(b if isinstance(b, bytes) else b.encode())
    op.writeFieldEnd()


def w_i64(op, fid, v):
    op.writeFieldBegin(None, TType.I64, fid)
    op.writeI64(v)
    op.writeFieldEnd()


def w_list(op, fid, etype, items, write):
    op.writeFieldBegin(None, TType.LIST, fid)
    op.writeListBegin(etype, len(items))
    for it in items:
        write(op, it)
    op.writeListEnd()
    op.writeFieldEnd()


def w_kv(op, kv, unknown=False):
    op.writeStructBegin("KeyValue")
    if kv[0] is not None:
        w_string(op, 1, kv[0])
    w_string(op, 2, kv[1])
    if unknown:
        op.writeFieldBegin(None, TType.I32, 3)
        op.writeI32(7)
        op.writeFieldEnd()
    op.writeFieldStop()
    op.writeStructEnd()


def w_unknown(op, fid, deep):
    """An unknown field: nested containers of every kind, deep levels."""
    op.writeFieldBegin(None, TType.LIST, fid)
    for _ in range(deep):
        op.writeListBegin(TType.LIST, 1)
    op.writeListBegin(TType.MAP, 1)
    op.writeMapBegin(TType.STRING, TType.SET, 1)
    op.writeString("k")
    op.writeSetBegin(TType.STRUCT, 1)
    op.writeStructBegin("X")
    op.writeFieldBegin(None, TType.DOUBLE, 1)
    op.writeDouble(1.5)
    op.writeFieldBegin(None, TType.I16, -2)
    op.writeI16(-2)
    op.writeFieldBegin(None, TType.BYTE, 3)
    op.writeByte(1)
    op.writeFieldBegin(None, TType.BOOL, 4)
    op.writeBool(True)
    op.writeFieldStop()


def w_span(op, s, a):
    op.writeStructBegin("SpanRecord")
    if s.get("span") is not None:
        w_string(op, 1, s["span"])
    if s.get("trace") is not None and not a.join:
        w_string(op, 11, s["trace"])
    w_string(op, 2, "runtime-guid-0001")
    w_string(op, 3, s.get("name", "op"))
    if s.get("trace") is not None and a.join:
        def join(o, j):
            o.writeStructBegin("TraceJoinId")
            w_string(o, 1, j[0])
            w_string(o, 2, j[1])
            if a.unknown:
                o.writeFieldBegin(None, TType.BOOL, 3)
                o.writeBool(False)
                o.writeFieldEnd()
            o.writeFieldStop()
            o.writeStructEnd()
        w_list(op, 4, TType.STRUCT,
               [("end_user_id", "u1"), ("trace_guid", s["trace"])], join)
    if s.get("oldest") is not None:
        w_i64(op, 5, s["oldest"])
    w_i64(op, 6, s["youngest"])
    if a.unknown:
        op.writeFieldBegin(None, TType.I16, 7)
        op.writeI16(3)
        op.writeFieldEnd()
        w_string(op, 20, b"\x00\xffbinary")
        w_unknown(op, 21, 2)
    w_list(op, 8, TType.STRUCT, s["tags"],
           lambda o, kv: w_kv(o, kv, a.unknown))
    op.writeFieldBegin(None, TType.BOOL, 9)
    op.writeBool(False)
    op.writeFieldEnd()

    def log(o, i):
        o.writeStructBegin("LogRecord")
        w_i64(o, 1, s["oldest"] or 0)
        w_list(o, 13, TType.STRUCT, [("event", "log%d" % i)], w_kv)
        w_string(o, 3, s.get("span") or "")
        w_list(o, 10, TType.STRING, ["frame"],
               lambda o2, x: o2.writeString(x))
        o.writeFieldStop()
        o.writeStructEnd()
    w_list(op, 10, TType.STRUCT, list(range(s["logs"])), log)
    op.writeFieldStop()
    op.writeStructEnd()


def plant(s, why):
    if why == "no_span_guid":
        s["span"] = None
    elif why == "no_trace_guid":
        s["trace"] = None
    elif why == "no_name":
        s["name"] = ""
    elif why == "no_start":
        s["oldest"] = None
    elif why == "bad_timestamp":
        s["youngest"] = s["oldest"] - 1
    elif why == "empty_key":
        s["tags"] = s["tags"] + [("", "v")]
    else:
        sys.exit("lsthrift.py: --invalid %s: not a reason (%s)" %
                 (why, " ".join(REASONS[1:])))


def spans_of(a):
    base = 1700000000000000
    out = []
    for i in range(a.spans + sum(n for _, n in a.invalid)):
        out.append({"span": "%016x" % (a.first + i), "trace": a.trace,
                    "oldest": base + i, "youngest": base + i + 5,
                    "tags": [("k%d" % t, "v%d" % t) for t in range(a.tags)],
                    "logs": a.logs})
    i = a.spans
    for why, n in a.invalid:
        for _ in range(n):
            plant(out[i], why)
            i += 1
    return out + [dict(s) for s in out[:a.dup]]


def w_request(op, a):
    op.writeStructBegin("ReportRequest")
    op.writeFieldBegin(None, TType.STRUCT, 1)
    op.writeStructBegin("Runtime")
    w_string(op, 1, "runtime-guid-0001")
    w_i64(op, 2, 1700000000000000)
    w_string(op, 3, "lsthrift.py")
    w_list(op, 4, TType.STRUCT, [("lightstep.tracer_platform", "python")],
           w_kv)
    op.writeFieldStop()
    op.writeFieldEnd()
    if a.unknown:
        w_unknown(op, 2, 1)
    if a.deep:
        w_unknown(op, 6, a.deep)
    w_list(op, 3, TType.STRUCT, spans_of(a), lambda o, s: w_span(o, s, a))
    w_i64(op, 5, 0)
    op.writeFieldStop()
    op.writeStructEnd()


def encode(args):
    trans = TMemoryBuffer()
    op = TBinaryProtocol(trans, strictWrite=args.form != "old")
    if args.form != "bare":
        op.writeMessageBegin(
            "Report", TMessageType.ONEWAY if args.form == "oneway"
            else TMessageType.CALL, args.seqid)
        op.writeStructBegin("Report_args")
        op.writeFieldBegin("auth", TType.STRUCT, 1)
        op.writeStructBegin("Auth")
        w_string(op, 1, "token")
        op.writeFieldStop()
        op.writeFieldEnd()
        if args.unknown:
            w_unknown(op, 9, 0)
        op.writeFieldBegin("request", TType.STRUCT, 2)
    w_request(op, args)
    if args.form != "bare":
        op.writeFieldStop()
        op.writeMessageEnd()
    out = trans.getvalue()
    if args.output:
        with open(args.output, "wb") as f:
            f.write(out)
    else:
        sys.stdout.buffer.write(out)


# --- mutate -----------------------------------------------------------

def mutant(rng, data):
    b = bytearray(data)
    how = rng.randrange(6)
    if not b:
        return bytes([rng.randrange(256)])
    i = rng.randrange(len(b))
    if how == 0:
        b[i] ^= 1 << rng.randrange(8)
    elif how == 1:
        b[i] = rng.choice([0, 1, 0x7f, 0x80, 0xff, 11, 12, 13, 14, 15])
    elif how == 2:
        del b[i:i + rng.randrange(1, 9)]
    elif how == 3:
        b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 5)))
    elif how == 4:
        return bytes(b[:i])
    else:
        j = min(i + 4, len(b))
        b[i:j] = rng.choice([b"\x7f\xff\xff\xff", b"\xff\xff\xff\xff",
                             b"\x00\x00\x00\x00", b"\x00\x10\x00\x00"])[:j - i]
    return bytes(b)


def mutate(args):
    rng = random.Random(args.seed)
    os.makedirs(args.outdir, exist_ok=True)
    for path in sorted(args.files):
        with open(path, "rb") as f:
            data = f.read()
        for k in range(args.count):
            m = data
            for _ in range(rng.randrange(1, 4)):
                m = mutant(rng, m)
            name = "%s.m%03d" % (os.path.basename(path), k)
            with open(os.path.join(args.outdir, name), "wb") as f:
                f.write(m)


def reason(s):
    why, _, n = s.partition(":")
    return why, int(n or 1)


def main():
    ap = argparse.ArgumentParser(
        prog="lsthrift.py", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("encode", help="write a report body")
    e.add_argument("--spans", type=int, default=3, help="valid spans")
    e.add_argument("--first", type=int, default=1,
                   help="the first span guid (16 hex digits of it)")
    e.add_argument("--trace", default="00000000000000aa", help="trace guid")
    e.add_argument("--tags", type=int, default=2, help="tags per span")
    e.add_argument("--logs", type=int, default=1, help="logs per span")
    e.add_argument("--join", action="store_true",
                   help="the trace guid as a trace_guid join id")
    e.add_argument("--invalid", type=reason, action="append", default=[],
                   metavar="REASON[:N]", help="plant N spans invalid so")
    e.add_argument("--dup", type=int, default=0,
                   help="send the first N spans again at the end")
    e.add_argument("--form", choices=["strict", "old", "bare", "oneway"],
                   default="strict", help="message header (default strict)")
    e.add_argument("--seqid", type=int, default=1)
    e.add_argument("--unknown", action="store_true",
                   help="unknown fields at several depths")
    e.add_argument("--deep", type=int, default=0,
                   help="an unknown field of N nested lists")
    e.add_argument("-o", "--output", help="file (default stdout)")
    d = sub.add_parser("decode", help="print the spans of body files")
    d.add_argument("--max-field", type=int, default=1 << 22,
                   help="longest string (default 4 MiB)")
    d.add_argument("files", nargs="+")
    r = sub.add_parser("reply", help="print an answer's timing")
    r.add_argument("file")
    m = sub.add_parser("mutate", help="write mutants of body files")
    m.add_argument("--seed", type=int, default=1)
    m.add_argument("--count", type=int, default=10, help="mutants per file")
    m.add_argument("outdir")
    m.add_argument("files", nargs="+")
    a = ap.parse_args()
    {"encode": encode, "decode": decode, "reply": reply,
     "mutate": mutate}[a.cmd](a)


if __name__ == "__main__":
    main()
