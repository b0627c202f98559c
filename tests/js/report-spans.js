#!/usr/bin/env node
// report-spans.js: drive the real npm `lightstep-tracer` (proto transport,
// binary protobuf over plain HTTP POST /api/v2/reports) against a collector
// on loopback, report N spans, flush, wait for acknowledgement and exit.
//
// Usage:
//   node report-spans.js --host 127.0.0.1 --port P --spans N
//        [--tags K] [--logs L] [--depth D] [--access-token T]
//        [--timeout S] [--verbose]
//
// On success prints one JSON line on stdout and exits 0:
//   {"type":"js_report","spans_sent":N,"errors":E}
// where E is the number of failed report attempts the tracer saw along the
// way (those spans were re-buffered and sent again). On failure prints
// "report-spans: ..." on stderr and exits nonzero (1 = flush failed / bad
// usage, 2 = timeout).

'use strict';

const PROG = 'report-spans';

function die(code, msg) {
    process.stderr.write(`${PROG}: ${msg}\n`, () => process.exit(code));
    // In case the write callback never fires.
    setTimeout(() => process.exit(code), 1000).unref();
}

function usage(msg) {
    if (msg) {
        process.stderr.write(`${PROG}: ${msg}\n`);
    }
    process.stderr.write(
        'usage: node report-spans.js --host HOST --port PORT --spans N '
        + '[--tags K] [--logs L] [--depth D] [--access-token T] '
        + '[--timeout SECONDS] [--verbose]\n',
    );
    process.exit(msg ? 1 : 0);
}

function parseArgs(argv) {
    const opts = {
        host        : '127.0.0.1',
        port        : null,
        spans       : null,
        tags        : 0,
        logs        : 0,
        depth       : 10,
        accessToken : 'ltb-test',
        timeout     : 30,
        verbose     : false,
    };
    const intArg = (name, v, min) => {
        if (v === undefined || !/^\d+$/.test(v)) {
            usage(`${name} needs a non-negative integer, got ${JSON.stringify(v)}`);
        }
        const n = parseInt(v, 10);
        if (n < min) {
            usage(`${name} must be >= ${min}`);
        }
        return n;
    };
    for (let i = 0; i < argv.length; i++) {
        let a = argv[i];
        let v;
        const eq = a.indexOf('=');
        if (a.startsWith('--') && eq > 0) {
            v = a.slice(eq + 1);
            a = a.slice(0, eq);
        }
        const next = () => {
            if (v !== undefined) return v;
            i++;
            if (i >= argv.length) usage(`${a} needs a value`);
            return argv[i];
        };
        switch (a) {
        case '--host': opts.host = next(); break;
        case '--port': opts.port = intArg(a, next(), 1); break;
        case '--spans': opts.spans = intArg(a, next(), 0); break;
        case '--tags': opts.tags = intArg(a, next(), 0); break;
        case '--logs': opts.logs = intArg(a, next(), 0); break;
        case '--depth': opts.depth = intArg(a, next(), 1); break;
        case '--access-token': opts.accessToken = next(); break;
        case '--timeout': {
            const s = next();
            const t = Number(s);
            if (!Number.isFinite(t) || t <= 0) usage(`--timeout needs a positive number, got ${JSON.stringify(s)}`);
            opts.timeout = t;
            break;
        }
        case '--verbose': opts.verbose = true; break;
        case '-h':
        case '--help': usage(); break;
        default: usage(`unknown argument ${JSON.stringify(a)}`);
        }
    }
    if (!opts.host) usage('--host must not be empty');
    if (opts.port === null || opts.port > 65535) usage('--port is required (1..65535)');
    if (opts.spans === null) usage('--spans is required');
    return opts;
}

const opts = parseArgs(process.argv.slice(2));

// Bound everything: the script exits by itself no matter what.
let acked = 0;          // spans acknowledged by the collector (HTTP 200)
let reportErrors = 0;   // failed report attempts (any, loop or flush)
let finished = false;
const deadline = setTimeout(() => {
    if (finished) return;
    finished = true;
    die(2, `timed out after ${opts.timeout} s: ${acked} of ${opts.spans} spans acknowledged, `
        + `${reportErrors} report errors`);
}, Math.ceil(opts.timeout * 1000));

let lightstep;
let opentracing;
try {
    lightstep = require('lightstep-tracer');
    opentracing = require('opentracing');
} catch (e) {
    die(1, `cannot load lightstep-tracer (run "npm ci" in tests/js): ${e.message}`);
    return;
}

// All tracer chatter goes to stderr so stdout carries only the JSON line.
function logger(level, msg, payload) {
    if (!opts.verbose && level !== 'error') return;
    let extra = '';
    if (payload !== undefined) {
        try {
            extra = ` ${JSON.stringify(payload)}`;
        } catch (e) {
            extra = ` ${String(payload)}`;
        }
    }
    process.stderr.write(`[lightstep:${level}] ${msg}${extra}\n`);
}

const reportIntervalMs = 200;
let tracer;
try {
    tracer = new lightstep.Tracer({
        access_token                  : opts.accessToken,
        component_name                : 'ltb-js-report-spans',
        collector_host                : opts.host,
        collector_port                : opts.port,
        // 0.35.0 has no collector_plaintext; 'none' selects http instead of https.
        collector_encryption          : 'none',
        transport                     : 'proto',
        max_reporting_interval_millis : reportIntervalMs,
        delay_initial_report_millis   : reportIntervalMs,
        // The whole buffer goes into one report; beyond this the tracer
        // overwrites random buffered spans and counts spans.dropped.
        max_span_records              : Math.max(opts.spans, 4096),
        report_timeout_millis         : Math.max(1000, Math.min(10000, Math.floor(opts.timeout * 1000))),
        // No empty clock-priming reports; no meta-event spans even if a
        // collector answers with a devMode command.
        disable_clock_skew_correction : true,
        disable_meta_event_reporting  : true,
        // We flush explicitly; no extra "detached" report from beforeExit.
        disable_report_on_exit        : true,
        nodejs_instrumentation        : false,
        verbosity                     : opts.verbose ? 3 : 1,
        error_throttle_millis         : 0,
        logger                        : logger,
    });
} catch (e) {
    finished = true;
    die(1, `cannot create tracer: ${e.message}`);
    return;
}

let waiter = null; // called on every report / report_error event
tracer.on('report', (report) => {
    acked += report.getSpanRecords().length;
    if (waiter) waiter(null);
});
tracer.on('report_error', (err) => {
    reportErrors++;
    if (opts.verbose) {
        process.stderr.write(`${PROG}: report attempt failed: ${err && err.message ? err.message : err}\n`);
    }
    if (waiter) waiter(err);
});

function succeed() {
    if (finished) return;
    finished = true;
    clearTimeout(deadline);
    const line = JSON.stringify({ type: 'js_report', spans_sent: acked, errors: reportErrors });
    process.stdout.write(`${line}\n`, () => process.exit(0));
}

function fail(msg) {
    if (finished) return;
    finished = true;
    clearTimeout(deadline);
    die(1, msg);
}

// Generate N spans as chains of `depth` spans (one trace per chain): each
// span is childOf the previous one; finished innermost first.
function generateSpans() {
    let made = 0;
    let chain = 0;
    while (made < opts.spans) {
        const len = Math.min(opts.depth, opts.spans - made);
        const open = [];
        let parent = null;
        for (let d = 0; d < len; d++) {
            const fields = {};
            if (parent) {
                fields.references = [opentracing.childOf(parent.context())];
            }
            const tags = {};
            for (let k = 0; k < opts.tags; k++) {
                tags[`ltb.tag.${k}`] = `value-${chain}-${d}-${k}`;
            }
            fields.tags = tags;
            const span = tracer.startSpan(`ltb.js.op.${d}`, fields);
            for (let l = 0; l < opts.logs; l++) {
                span.log({ event: `ltb.log.${l}`, message: `log ${l} of span ${made}` });
            }
            open.push(span);
            parent = span;
            made++;
        }
        for (let j = open.length - 1; j >= 0; j--) {
            open[j].finish();
        }
        chain++;
    }
}

function flushUntilAcked() {
    tracer.flush((err) => {
        if (finished) return;
        if (err) {
            fail(`flush failed: ${err.message || err} (${acked} of ${opts.spans} spans acknowledged)`);
            return;
        }
        if (acked >= opts.spans) {
            succeed();
            return;
        }
        // Some spans are in a background report that is still in flight.
        // Wait for it; if it fails its spans are re-buffered: flush again.
        waiter = (e) => {
            if (finished) return;
            if (acked >= opts.spans) {
                waiter = null;
                succeed();
            } else if (e) {
                waiter = null;
                flushUntilAcked();
            }
        };
    });
}

const t0 = process.hrtime.bigint();
generateSpans();
if (opts.verbose) {
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    process.stderr.write(`${PROG}: generated ${opts.spans} spans in ${ms.toFixed(1)} ms\n`);
}
flushUntilAcked();
