#!/usr/bin/env node
// client.js: the ltb client for the real npm `lightstep-tracer` (0.35.0,
// proto transport: binary protobuf over plain HTTP POST /api/v2/reports).
//
// It follows the client contract of ltb-client(7): load the tracer library,
// then GET the control message once from LTB_CONTROL_URL (http://, https:// or
// file://; the measurement window opens there), generate exactly
// Repeat spans in chains of 6 (each span a child of the previous one in its
// chain), do Work floating-point multiplications inside each span, sleep
// SleepInterval ns whenever the accumulated Sleep debt exceeds it, then
// (unless NoFlush) flush and wait until every report is acknowledged, at
// most FLUSH_TIMEOUT_MS. Trace false selects opentracing's NoOp Tracer.
//
// stdout carries exactly one JSON line, printed at exit:
//   {"type":"client","v":1,"client":"js-lightstep","trace":B,
//    "spans_sent":N,"dropped":D,"reports_ok":R,"reports_failed":F,
//    "tracer":"lightstep-tracer 0.35.0"}
// tracer names the tracer package and the version installed ("noop"
// without Trace).
// Everything else (tracer logs, diagnostics) goes to stderr.
//
// Exit codes: 0 done (even if some spans were not acknowledged: that is what
// "dropped" says); 2 the control message could not be fetched or parsed;
// 127 the npm dependencies are not installed (run ./setup).
//
// Two Node.js-specific choices, both because the tracer reports
// asynchronously from timers on the event loop of this same thread:
//
// * Sleeping. A synchronous sleep (Atomics.wait) would be the most faithful
//   to the original clients, but it would starve the reporting loop for the
//   whole SleepInterval. So a sleep awaits a timer for the whole
//   milliseconds of the interval (the event loop, and so the tracer, runs
//   meanwhile) and then waits synchronously with Atomics.wait for what is
//   left up to the deadline (1 to 2 ms: Node's timers have millisecond
//   granularity and fire late rather than early, so the timer is asked for
//   one millisecond less). Sleeps under 2 ms are thus wholly synchronous;
//   the yield below still gives the tracer its turns. Neither burns CPU.
//
// * Yielding. With Sleep 0 the span loop would never give the event loop a
//   turn, the reporting timer could not fire until the end, and every span
//   beyond MaxBufferedSpans would be dropped: an artefact of the client,
//   not a property of the tracer. A Node service gets back to its event
//   loop between requests, so between chains (one chain = one request) the
//   client yields with setImmediate once at least YIELD_EVERY_NS have passed
//   since the last yield or sleep. The cost is the same with the NoOp
//   tracer, so it cancels out of traced-vs-untraced comparisons.

'use strict';

const fs = require('fs');
const http = require('http');
const https = require('https');
const url = require('url');

const PROG = 'client.js';
const CLIENT = 'js-lightstep';
const DEFAULT_CONTROL_URL = 'http://127.0.0.1:8024/control';
const SPANS_PER_CHAIN = 6;
const SPAN_NAMES = [
    'client/request',
    'server/handle',
    'server/authorize',
    'db/connect',
    'db/query',
    'db/fetch',
];
const FETCH_TIMEOUT_MS = 10000;
const FLUSH_TIMEOUT_MS = 30000;
const YIELD_EVERY_NS = 1000000n;

let finished = false;

function warn(msg) {
    process.stderr.write(`${PROG}: ${msg}\n`);
}

// "NAME VERSION" of an installed package, from its own package.json: the
// summary's tracer, which results carry into their fingerprint.
function packageName(name) {
    let version = 'unknown';
    try {
        version = require(`${name}/package.json`).version || version;
    } catch (e) {
        // an unreadable package.json is no reason to fail a run
    }
    return `${name} ${version}`;
}

function die(code, msg) {
    finished = true;
    process.stderr.write(`${PROG}: ${msg}\n`, () => process.exit(code));
    setTimeout(() => process.exit(code), 1000).unref();
}

// A closed pipe downstream is a clean stop, not a crash.
process.stdout.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(0);
    die(1, `cannot write to stdout: ${err.message}`);
});

// --- the control message -----------------------------------------------

function fetchText(controlUrl) {
    return new Promise((resolve, reject) => {
        let u;
        try {
            u = new URL(controlUrl);
        } catch (e) {
            reject(new Error('not a URL'));
            return;
        }
        if (u.protocol === 'file:') {
            try {
                resolve(fs.readFileSync(url.fileURLToPath(u), 'utf8'));
            } catch (e) {
                reject(new Error(e.code === 'ENOENT' ? 'no such file' : e.message));
            }
            return;
        }
        const mod = u.protocol === 'http:' ? http : u.protocol === 'https:' ? https : null;
        if (!mod) {
            reject(new Error(`unsupported scheme ${u.protocol}`));
            return;
        }
        const req = mod.get(u, { timeout: FETCH_TIMEOUT_MS }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('error', reject);
            res.on('end', () => {
                if (res.statusCode !== 200) {
                    reject(new Error(`HTTP status ${res.statusCode}`));
                    return;
                }
                resolve(Buffer.concat(chunks).toString('utf8'));
            });
        });
        req.on('timeout', () => req.destroy(new Error(`no answer in ${FETCH_TIMEOUT_MS / 1000} s`)));
        req.on('error', (e) => reject(new Error(e.code === 'ECONNREFUSED' ? 'connection refused' : e.message)));
    });
}

// Parse and check the control message as common/run/ltb_control_msg.c does: absent
// keys keep their defaults, present keys must have the right type.
function parseControl(text) {
    let obj;
    try {
        obj = JSON.parse(text);
    } catch (e) {
        throw new Error(`not JSON: ${e.message.replace(/\s+/g, ' ')}`);
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
        throw new Error('not a JSON object');
    }
    const c = {
        Trace: false,
        Sleep: 0,
        SleepInterval: 100000000,
        Work: 0,
        Repeat: 0,
        NoFlush: false,
        NumTags: 10,
        NumLogs: 15,
        SatelliteHost: '127.0.0.1',
        SatellitePorts: [8360, 8361, 8362, 8363, 8364, 8365, 8366, 8367],
        ReportingPeriodMs: 200,
        MaxBufferedSpans: 10000,
    };
    const bool = (k) => {
        if (!(k in obj)) return;
        if (typeof obj[k] !== 'boolean') throw new Error(`${k}: not true or false`);
        c[k] = obj[k];
    };
    const uint = (k, max) => {
        if (!(k in obj)) return;
        const v = obj[k];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
            throw new Error(`${k}: not an integer from 0 to ${max}`);
        }
        c[k] = v;
    };
    bool('Trace');
    bool('NoFlush');
    uint('Sleep', Number.MAX_SAFE_INTEGER);
    uint('SleepInterval', Number.MAX_SAFE_INTEGER);
    uint('Work', Number.MAX_SAFE_INTEGER);
    uint('Repeat', Number.MAX_SAFE_INTEGER);
    uint('NumTags', 1000);
    uint('NumLogs', 1000);
    uint('ReportingPeriodMs', 3600000);
    uint('MaxBufferedSpans', 100000000);
    if ('SatelliteHost' in obj) {
        const h = obj.SatelliteHost;
        if (typeof h !== 'string' || h === '' || h.length > 63) {
            throw new Error('SatelliteHost: not a host name');
        }
        c.SatelliteHost = h;
    }
    if ('SatellitePorts' in obj) {
        const p = obj.SatellitePorts;
        if (!Array.isArray(p) || p.length < 1 || p.length > 64
            || !p.every((x) => Number.isInteger(x) && x >= 1 && x <= 65535)) {
            throw new Error('SatellitePorts: not a list of 1 to 64 ports');
        }
        c.SatellitePorts = p;
    }
    return c;
}

// --- work and sleep ------------------------------------------------------

// The result goes to a module-level object so the JIT cannot drop the loop.
const sink = { x: 0 };
const FACTOR = 1 + (Date.now() % 7 + 1) * 1e-9;

function work(n) {
    let x = 1.0 + sink.x * 1e-300;
    for (let i = 0; i < n; i++) {
        x *= FACTOR;
    }
    sink.x = x;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

// Sleep ns nanoseconds without burning CPU, letting the event loop (and the
// tracer's reporting) run for all but the last sub-millisecond part.
async function sleepNs(ns) {
    const deadline = process.hrtime.bigint() + BigInt(ns);
    const wholeMs = Math.floor(ns / 1e6) - 1;
    if (wholeMs >= 1) {
        await new Promise((resolve) => { setTimeout(resolve, wholeMs); });
    }
    for (;;) {
        const left = deadline - process.hrtime.bigint();
        if (left <= 0n) break;
        Atomics.wait(sleepCell, 0, 0, Number(left) / 1e6);
    }
}

function yieldToLoop() {
    return new Promise((resolve) => { setImmediate(resolve); });
}

// --- the tracer ----------------------------------------------------------

function tracerLogger(level, msg, payload) {
    let extra = '';
    if (payload !== undefined) {
        try {
            extra = ` ${JSON.stringify(payload)}`;
        } catch (e) {
            extra = ` ${String(payload)}`;
        }
    }
    process.stderr.write(`${PROG}: [lightstep:${level}] ${msg}${extra}\n`);
}

function makeTracer(c, lightstep, stats) {
    const period = Math.max(1, c.ReportingPeriodMs);
    const tracer = new lightstep.Tracer({
        access_token                  : 'ltb',
        component_name                : 'ltb-client-js-lightstep',
        collector_host                : c.SatelliteHost,
        // The JS tracer reports to a single collector: the first port.
        collector_port                : c.SatellitePorts[0],
        // 0.35.0 has no collector_plaintext; 'none' selects http.
        collector_encryption          : 'none',
        transport                     : 'proto',
        max_reporting_interval_millis : period,
        delay_initial_report_millis   : period,
        // Beyond this the tracer overwrites random buffered spans and
        // counts spans.dropped.
        max_span_records              : Math.max(1, c.MaxBufferedSpans),
        report_timeout_millis         : 10000,
        // No empty clock-priming reports, no meta-event spans even if a
        // collector answers with a devMode command.
        disable_clock_skew_correction : true,
        disable_meta_event_reporting  : true,
        // We flush explicitly (or, with NoFlush, deliberately not at all).
        disable_report_on_exit        : true,
        nodejs_instrumentation        : false,
        verbosity                     : 1,
        logger                        : tracerLogger,
    });
    tracer.on('report', (report) => {
        stats.reportsOk++;
        stats.acked += report.getSpanRecords().length;
        const counters = report.getCounters() || {};
        stats.droppedReported += counters['spans.dropped'] || 0;
        if (stats.waiter) stats.waiter(null);
    });
    tracer.on('report_error', (err) => {
        stats.reportsFailed++;
        if (stats.waiter) stats.waiter(err || new Error('report failed'));
    });
    return tracer;
}

// Spans the tracer dropped itself (buffer overflow): those already reported
// in acknowledged reports plus those still counted in its buffer.
function droppedByTracer(tracer, stats) {
    let pending = 0;
    try {
        pending = tracer.stats().counters['spans.dropped'] || 0;
    } catch (e) {
        pending = 0;
    }
    return stats.droppedReported + pending;
}

// Flush, and keep flushing after failed reports, until every span sent is
// acknowledged or known dropped, or until FLUSH_TIMEOUT_MS. Resolves true if
// everything was accounted for.
function flushUntilAcked(tracer, stats, spansSent) {
    return new Promise((resolve) => {
        let done = false;
        const accounted = () => stats.acked + droppedByTracer(tracer, stats) >= spansSent;
        const finish = (ok) => {
            if (done) return;
            done = true;
            stats.waiter = null;
            clearTimeout(deadline);
            resolve(ok);
        };
        // A referenced timer: it also keeps the process alive while the
        // tracer's own (unreferenced) timers are pending.
        const deadline = setTimeout(() => {
            warn(`gave up waiting for acknowledgements after ${FLUSH_TIMEOUT_MS / 1000} s: `
                + `${stats.acked} of ${spansSent} spans acknowledged`);
            finish(false);
        }, FLUSH_TIMEOUT_MS);
        const flush = () => {
            tracer.flush((err) => {
                if (done) return;
                if (accounted()) {
                    finish(true);
                    return;
                }
                if (err) {
                    // Its spans were put back in the buffer: try again after
                    // a short pause rather than hammering a dead collector.
                    setTimeout(flush, 100);
                    return;
                }
                // Some spans are in a background report still in flight:
                // wait for it; if it fails its spans are re-buffered.
                stats.waiter = (e) => {
                    if (done) return;
                    if (accounted()) {
                        finish(true);
                    } else if (e) {
                        stats.waiter = null;
                        setTimeout(flush, 100);
                    }
                };
            });
        };
        flush();
    });
}

// --- the run -------------------------------------------------------------

async function generate(c, tracer, opentracing) {
    const tagKeys = [];
    const tagValues = [];
    for (let k = 0; k < c.NumTags; k++) {
        tagKeys.push(`ltb.tag.${k}`);
        tagValues.push(`value-${k}`);
    }
    const logEvents = [];
    for (let l = 0; l < c.NumLogs; l++) logEvents.push(`ltb.log.${l}`);

    let sleepDebt = 0;
    let made = 0;
    let lastYield = process.hrtime.bigint();
    while (made < c.Repeat) {
        const len = Math.min(SPANS_PER_CHAIN, c.Repeat - made);
        const open = [];
        let parent = null;
        for (let d = 0; d < len; d++) {
            const tags = {};
            for (let k = 0; k < tagKeys.length; k++) tags[tagKeys[k]] = tagValues[k];
            const fields = { tags };
            if (parent) fields.references = [opentracing.childOf(parent.context())];
            const span = tracer.startSpan(SPAN_NAMES[d], fields);
            work(c.Work);
            for (let l = 0; l < logEvents.length; l++) {
                span.log({ event: logEvents[l], span: made, index: l });
            }
            open.push(span);
            parent = span;
            made++;
        }
        // Innermost first; the sleep debt accrues per finished span, as in
        // the original (sleep after each span, outside it).
        for (let j = open.length - 1; j >= 0; j--) {
            open[j].finish();
            sleepDebt += c.Sleep;
            if (sleepDebt > c.SleepInterval) {
                sleepDebt -= c.SleepInterval;
                await sleepNs(c.SleepInterval);
                lastYield = process.hrtime.bigint();
            }
        }
        const now = process.hrtime.bigint();
        if (now - lastYield >= YIELD_EVERY_NS) {
            await yieldToLoop();
            lastYield = process.hrtime.bigint();
        }
    }
    // The original dropped the debt left at the end, which cuts a short run
    // short by up to one SleepInterval (10% of a 1 s run); paying it keeps
    // the run as long as Repeat spans at the planned rate take.
    if (sleepDebt > 0) await sleepNs(sleepDebt);
    return made;
}

async function main() {
    const controlUrl = process.env.LTB_CONTROL_URL || DEFAULT_CONTROL_URL;

    // Load the tracer library before fetching, in traced and NoOp runs
    // alike: the measurement window opens at the fetch, so the module's
    // load (~0.08 CPU-s) is start-up, not the tracer's cost per span. The
    // tracer itself is built from the message, after.
    let opentracing;
    let lightstep;
    try {
        opentracing = require('opentracing');
        lightstep = require('lightstep-tracer');
    } catch (e) {
        die(127, `cannot load the tracer (run clients/js-lightstep/setup): ${e.message}`);
        return;
    }
    const tracerName = packageName('lightstep-tracer');

    let c;
    try {
        c = parseControl(await fetchText(controlUrl));
    } catch (e) {
        die(2, `cannot fetch control message from ${controlUrl}: ${e.message}`);
        return;
    }

    const stats = {
        acked: 0, droppedReported: 0, reportsOk: 0, reportsFailed: 0, waiter: null,
    };
    let tracer;
    if (c.Trace) {
        try {
            tracer = makeTracer(c, lightstep, stats);
        } catch (e) {
            die(1, `cannot create the LightStep tracer: ${e.message}`);
            return;
        }
    } else {
        tracer = new opentracing.Tracer();
    }

    const spansSent = await generate(c, tracer, opentracing);

    let dropped = 0;
    if (c.Trace) {
        if (!c.NoFlush) await flushUntilAcked(tracer, stats, spansSent);
        dropped = Math.min(spansSent,
            Math.max(droppedByTracer(tracer, stats), spansSent - stats.acked));
    }

    finished = true;
    const line = JSON.stringify({
        type           : 'client',
        v              : 1,
        client         : CLIENT,
        trace          : c.Trace,
        spans_sent     : spansSent,
        dropped        : dropped,
        reports_ok     : stats.reportsOk,
        reports_failed : stats.reportsFailed,
        tracer         : c.Trace ? tracerName : 'noop',
    });
    process.stdout.write(`${line}\n`, () => process.exit(0));
}

main().catch((e) => {
    if (!finished) die(1, `unexpected error: ${e && e.stack ? e.stack : e}`);
});
