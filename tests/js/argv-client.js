#!/usr/bin/env node
// argv-client.js: a client for the ORIGINAL LightStep Benchmarks
// command-line contract (DESIGN.md's `argv` contract, which ltb-sample
// --contract argv starts), over the real npm lightstep-tracer 0.35.0 with
// transport "thrift": the thrift ReportRequest as JSON, POST
// /api/v0/reports, the transport the original JS client defaulted to.
//
//   node argv-client.js --trace 0|1 --sleep NS --sleep_interval NS
//        --work N --repeat N --no_flush 0|1 --num_tags N --num_logs N
//
// All eight flags are required (the original's harness always passed all
// of them), as `--flag value` or `--flag=value`, the last of a repeated
// one winning (as gflags and argparse do); an unknown flag, a
// missing or bad value is a usage error (exit 2). --help prints the usage.
//
// It makes exactly Repeat spans in chains of 6 nested spans ("parent",
// then "child" of the span before), each with num_tags tags and num_logs
// logs, doing Work floating-point multiplications inside each span; each
// finished span adds Sleep ns of sleep debt, and whenever the debt exceeds
// SleepInterval the client sleeps SleepInterval ns (DESIGN.md's rule, as
// clients/js-lightstep/client.js). --trace 0 uses opentracing's NoOp
// tracer, which sends nothing. At the end, unless --no_flush 1, it
// flushes and waits until every span is acknowledged or known dropped (at
// most FLUSH_TIMEOUT_MS), then exits 0.
//
// Where it departs from the original js client (which made Repeat chains,
// 6 x Repeat spans, and ignored --trace, --sleep and --sleep_interval):
// it follows the contract instead. Like client.js it yields to the event
// loop between chains once a millisecond has passed, so the tracer's
// reporting timer can fire during a run with no sleep (a Node service
// returns to its loop between requests); the NoOp run pays the same.
//
// The tracer reports to collector_host LTB_ARGV_HOST (default localhost)
// and port LTB_ARGV_PORT (default 8360, hard-coded like the original;
// the variables exist for tests), in plaintext, every 200 ms, buffering at
// most 10000 spans. Both libraries are loaded in both modes: under this
// contract the whole process is measured, so the load cancels out of a
// traced-vs-untraced comparison.
//
// stdout: nothing (the original printed nothing), unless LTB_ARGV_SUMMARY=1:
// then one line at exit, ltb's client summary
//   {"type":"client","spans_sent":N,"dropped":D}
// dropped being the spans the tracer counts as dropped (spans.dropped;
// 0 for the NoOp tracer, which drops nothing).
// stderr: the tracer's warnings and errors, failed reports, diagnostics.
// Exit codes: 0 done; 1 an unexpected failure; 2 usage; 127 the npm
// packages are missing (npm ci in tests/js).

'use strict';

const PROG = 'argv-client.js';
const USAGE = `usage: ${PROG} --trace 0|1 --sleep NS --sleep_interval NS --work N
       --repeat N --no_flush 0|1 --num_tags N --num_logs N
       ${PROG} --help`;
const FLAGS = {
    trace: 1, sleep: Number.MAX_SAFE_INTEGER, sleep_interval: Number.MAX_SAFE_INTEGER,
    work: Number.MAX_SAFE_INTEGER, repeat: Number.MAX_SAFE_INTEGER, no_flush: 1,
    num_tags: 1000, num_logs: 1000,
};
const SPANS_PER_CHAIN = 6;
const DEFAULT_PORT = 8360;
const REPORTING_PERIOD_MS = 200;
const MAX_BUFFERED_SPANS = 10000;
const FLUSH_TIMEOUT_MS = 30000;
const YIELD_EVERY_NS = 1000000n;

function die(code, msg) {
    process.stderr.write(`${PROG}: ${msg}\n`, () => process.exit(code));
    setTimeout(() => process.exit(code), 1000).unref();
}

function usageError(msg) {
    process.stderr.write(`${PROG}: ${msg}\n${USAGE}\n`, () => process.exit(2));
    setTimeout(() => process.exit(2), 1000).unref();
    return null;
}

// --- the command line ----------------------------------------------------

// The eight flags, each a whole number within its bound, or null after a
// usage error.
function parseArgs(argv) {
    const a = {};
    for (let i = 0; i < argv.length; i++) {
        let arg = argv[i];
        if (arg === '--help' || arg === '-h') {
            process.stdout.write(`${USAGE}\n`, () => process.exit(0));
            return null;
        }
        let value;
        const eq = arg.indexOf('=');
        if (arg.startsWith('--') && eq > 0) {
            value = arg.slice(eq + 1);
            arg = arg.slice(0, eq);
        }
        const name = arg.startsWith('--') ? arg.slice(2) : null;
        if (name === null || !Object.prototype.hasOwnProperty.call(FLAGS, name)) {
            return usageError(`unknown argument '${argv[i]}'`);
        }
        if (value === undefined) {
            if (i + 1 >= argv.length) return usageError(`--${name} needs a value`);
            value = argv[++i];
        }
        if (!/^[0-9]+$/.test(value) || Number(value) > FLAGS[name]) {
            return usageError(`--${name}: '${value}' is not a whole number from 0 to ${FLAGS[name]}`);
        }
        a[name] = Number(value);
    }
    for (const name of Object.keys(FLAGS)) {
        if (!(name in a)) return usageError(`missing --${name}`);
    }
    return a;
}

// --- work and sleep ------------------------------------------------------

// The result goes to a module-level object so the JIT cannot drop the loop.
const sink = { x: 0 };
const FACTOR = 1 + ((Date.now() % 7) + 1) * 1e-9;

function work(n) {
    let x = 1.0 + sink.x * 1e-300;
    for (let i = 0; i < n; i++) x *= FACTOR;
    sink.x = x;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

// Sleep ns without burning CPU: a timer for the whole milliseconds (the
// tracer's reporting runs meanwhile), Atomics.wait for the rest.
async function sleepNs(ns) {
    const deadline = process.hrtime.bigint() + BigInt(ns);
    const wholeMs = Math.floor(ns / 1e6) - 1;
    if (wholeMs >= 1) await new Promise((resolve) => { setTimeout(resolve, wholeMs); });
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

// Warnings (a failed report) and errors only: verbosity 3 is what makes
// 0.35.0 call the logger for warnings at all, and its info lines are noise.
function tracerLogger(level, msg, payload) {
    if (level !== 'warn' && level !== 'error') return;
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

function makeTracer(lightstep, stats) {
    const tracer = new lightstep.Tracer({
        access_token                  : 'developer',
        component_name                : 'ltb-argv-client',
        collector_host                : process.env.LTB_ARGV_HOST || 'localhost',
        collector_port                : +process.env.LTB_ARGV_PORT || DEFAULT_PORT,
        // 0.35.0 has no collector_plaintext; 'none' selects http.
        collector_encryption          : 'none',
        transport                     : 'thrift',
        max_reporting_interval_millis : REPORTING_PERIOD_MS,
        delay_initial_report_millis   : REPORTING_PERIOD_MS,
        max_span_records              : MAX_BUFFERED_SPANS,
        // We flush explicitly, or with --no_flush 1 deliberately not.
        disable_report_on_exit        : true,
        verbosity                     : 3,
        logger                        : tracerLogger,
    });
    tracer.on('report', (report) => {
        stats.acked += report.getSpanRecords().length;
        stats.droppedReported += (report.getCounters() || {})['spans.dropped'] || 0;
        if (stats.waiter) stats.waiter(null);
    });
    tracer.on('report_error', (err) => {
        process.stderr.write(`${PROG}: report failed: ${err && err.message ? err.message : err}\n`);
        if (stats.waiter) stats.waiter(err || new Error('report failed'));
    });
    return tracer;
}

// Spans the tracer dropped itself: in acknowledged reports, and counted in
// its buffer still.
function droppedByTracer(tracer, stats) {
    let pending = 0;
    try {
        pending = tracer.stats().counters['spans.dropped'] || 0;
    } catch (e) {
        pending = 0;
    }
    return stats.droppedReported + pending;
}

// Flush, again after a failed report, until every span made is
// acknowledged or known dropped, or FLUSH_TIMEOUT_MS: flush() does not wait
// for a report the reporting loop already has in flight.
function flushUntilAcked(tracer, stats, made) {
    return new Promise((resolve) => {
        let done = false;
        const accounted = () => stats.acked + droppedByTracer(tracer, stats) >= made;
        const finish = () => {
            if (done) return;
            done = true;
            stats.waiter = null;
            clearTimeout(deadline);
            resolve();
        };
        const deadline = setTimeout(() => {
            process.stderr.write(`${PROG}: gave up waiting for the flush after `
                + `${FLUSH_TIMEOUT_MS / 1000} s: ${stats.acked} of ${made} spans acknowledged\n`);
            finish();
        }, FLUSH_TIMEOUT_MS);
        const flush = () => {
            tracer.flush((err) => {
                if (done) return;
                if (accounted()) {
                    finish();
                } else if (err) {
                    setTimeout(flush, 100);
                } else {
                    stats.waiter = (e) => {
                        if (done) return;
                        if (accounted()) {
                            finish();
                        } else if (e) {
                            stats.waiter = null;
                            setTimeout(flush, 100);
                        }
                    };
                }
            });
        };
        flush();
    });
}

// --- the run -------------------------------------------------------------

async function generate(a, tracer, opentracing) {
    const tags = {};
    for (let k = 0; k < a.num_tags; k++) tags[`tag.key${k}`] = `tag.value${k}`;
    const logs = [];
    for (let l = 0; l < a.num_logs; l++) logs.push({ [`log.key${l}`]: `log.value${l}` });

    let debt = 0;
    let made = 0;
    let lastYield = process.hrtime.bigint();
    while (made < a.repeat) {
        const len = Math.min(SPANS_PER_CHAIN, a.repeat - made);
        const open = [];
        for (let d = 0; d < len; d++) {
            const parent = open.length > 0 ? open[open.length - 1] : null;
            const span = parent
                ? tracer.startSpan('child', { childOf: parent.context(), tags })
                : tracer.startSpan('parent', { tags });
            work(a.work);
            for (const fields of logs) span.log(fields);
            open.push(span);
            made++;
        }
        // Innermost first; the debt accrues per finished span.
        for (let j = open.length - 1; j >= 0; j--) {
            open[j].finish();
            debt += a.sleep;
            if (debt > a.sleep_interval) {
                debt -= a.sleep_interval;
                await sleepNs(a.sleep_interval);
                lastYield = process.hrtime.bigint();
            }
        }
        if (process.hrtime.bigint() - lastYield >= YIELD_EVERY_NS) {
            await yieldToLoop();
            lastYield = process.hrtime.bigint();
        }
    }
    return made;
}

async function main() {
    const a = parseArgs(process.argv.slice(2));
    if (a === null) return;
    let opentracing;
    let lightstep;
    try {
        opentracing = require('opentracing');
        lightstep = require('lightstep-tracer');
    } catch (e) {
        die(127, `cannot load the tracer (npm ci in tests/js): ${e.message}`);
        return;
    }
    const stats = { acked: 0, droppedReported: 0, waiter: null };
    const tracer = a.trace ? makeTracer(lightstep, stats) : new opentracing.Tracer();
    const made = await generate(a, tracer, opentracing);
    if (a.trace && !a.no_flush) await flushUntilAcked(tracer, stats, made);
    if (process.env.LTB_ARGV_SUMMARY !== '1') {
        process.exit(0);
    }
    const line = { type: 'client', spans_sent: made };
    line.dropped = a.trace ? Math.min(made, droppedByTracer(tracer, stats)) : 0;
    process.stdout.write(`${JSON.stringify(line)}\n`, () => process.exit(0));
}

main().catch((e) => die(1, `unexpected error: ${e && e.stack ? e.stack : e}`));
