#!/usr/bin/env node
// client.js: the ltb client for the real OpenTelemetry JS SDK from npm
// (@opentelemetry/sdk-trace-base 2.12.1, BatchSpanProcessor, and the OTLP/HTTP
// trace exporters 0.223.1: exporter-trace-otlp-proto or, for http/json,
// exporter-trace-otlp-http), reporting to POST /v1/traces.
//
// It follows the client contract of ltb-client(7): load the libraries, then
// GET the control message once from LTB_CONTROL_URL (http://, https:// or
// file://; the measurement window opens there), generate exactly Repeat
// spans in chains of 6 (each span a child of the previous one in its chain)
// with NumTags attributes and NumLogs events each, do Work floating-point
// multiplications inside each span, sleep SleepInterval ns whenever the
// accumulated Sleep debt exceeds it, then (unless NoFlush) flush and wait
// for every export to finish, at most FLUSH_TIMEOUT_MS. Trace false leaves
// the global tracer provider unregistered, so @opentelemetry/api hands out
// its NoOp tracer: the same code path an instrumented program takes
// without the SDK.
//
// Which exporter, and how, is said the OpenTelemetry way, by environment:
//   OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL     http/protobuf (default) | http/json
//   OTEL_EXPORTER_OTLP_[TRACES_]COMPRESSION  none (default) | gzip
// and the control message says where and how much:
//   SatelliteHost, SatellitePorts  -> http://HOST:PORT/v1/traces (IPv6
//                                     literals bracketed)
//   Tls, TlsCaFile                 -> https, the certificate not verified,
//                                     or verified against TlsCaFile
//   MaxBufferedSpans               -> maxQueueSize
//   ReportingPeriodMs              -> scheduledDelayMillis
// Protocol is ignored: this client speaks OTLP whatever it says.
//
// One port. The SDK exports to one endpoint, and a service runs one
// exporter: the client reports to the first of SatellitePorts only, as the
// js-lightstep client does. One exporter per port in turn would measure
// several agents, socket pools and concurrency queues no service runs, and
// the satellites count their ports together, so nothing is lost.
//
// stdout carries exactly one JSON line, printed at exit:
//   {"type":"client","v":1,"client":"js-otel","trace":B,"spans_sent":N,
//    "dropped":D,"exporter":"http/protobuf","compression":"none",
//    "tls":T,"reports_ok":R,"reports_failed":F,"dropped_queue_full":Q,
//    "dropped_export_failed":X,"rejected":J,"unsent":U,"in_flight":I,
//    "tracer":"@opentelemetry/sdk-trace-base 2.12.1"}
// spans_sent is what the client finished; dropped = Q + X + J + U + I,
// what it knows it lost: Q spans the BatchSpanProcessor turned away because
// its queue was full, X spans in exports that failed for good (after the
// exporter's own retries), J spans the collector rejected in a
// partial_success, U spans still queued at exit and I spans in exports
// still unanswered at exit (NoFlush, or a flush that gave up), which the
// client abandons: none was acknowledged and none will be sent again. (A
// request of I that did get through, its answer not back yet, shows as
// the client counting more than the satellites miss.) reports_ok and
// reports_failed count export calls. tracer names the SDK package and the
// version installed ("noop" without Trace). Everything else (SDK
// diagnostics) goes to stderr.
//
// Counting. The SDK only logs its drops, and its log line ("Dropped N spans
// because maxQueueSize reached") comes late or never (only when a later span
// gets in). But the processor also records every drop, at the place it
// drops, on its self-observability counter otel.sdk.processor.span.processed
// with error.type "queue_full" (the experimental selfObsMeterProvider option
// of these pinned versions): the client hands it a meter whose counter adds
// those up, so the count is the SDK's own and cannot drift from it. The
// client refuses to run traced if the processor never asks for that
// counter (a changed SDK would otherwise report 0 drops). Exports are
// counted by a thin exporter in front of the real one: the spans of each
// export() call and of its result. Partial successes are read from the
// exporter's own diag warning, which carries the collector's answer.
//
// Exit codes: 0 done (even if some spans were lost: that is what "dropped"
// says); 1 the tracer could not be built; 2 the control message (or the
// OTEL_ environment) could not be fetched, parsed or used; 127 the npm
// dependencies are not installed (run ./setup).
//
// Sleeping and yielding are as in the js-lightstep client, for the same
// reason: the processor exports from timers on this thread's event loop. A
// sleep awaits a timer for its whole milliseconds and waits synchronously
// (Atomics.wait) only for the last one or two; with no sleep the loop still
// yields to the event loop between chains once YIELD_EVERY_NS have passed,
// as a service does between requests, so the processor gets its turns.

'use strict';

const fs = require('fs');
const http = require('http');
const https = require('https');
const url = require('url');

const PROG = 'client.js';
const CLIENT = 'js-otel';
const SERVICE_NAME = 'ltb-client-js-otel';
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
// The exporter retries an export for up to its timeout (10 s by default),
// and a flush waits for every export: against a satellite that stays down
// that is 10 s past the run, more than the 5 s past its runtime ltb-sample
// grants a client at the least. The flush gives up sooner; what it leaves
// is counted (unsent, in_flight) and the exporter's own timeout stays the
// SDK's default, as a service runs it.
const FLUSH_TIMEOUT_MS = 4000;
const YIELD_EVERY_NS = 1000000n;
// The processor's default batch, and a bound on batches per flush: at a
// flush the processor starts an export for every batch in its queue at
// once, and the exporter fails outright any export beyond its
// concurrencyLimit (30). A batch of at least 1/16 of the queue keeps a
// flush of a full queue, plus the one export the timer may have running,
// well under it.
const BATCH_DEFAULT = 512;
const BATCHES_PER_FLUSH = 16;
// SDK diagnostics shown on stderr before the rest are only counted.
const DIAG_LINES_MAX = 20;
const PROCESSED_METRIC = 'otel.sdk.processor.span.processed';

let finished = false;

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

function warn(msg) {
    process.stderr.write(`${PROG}: ${msg}\n`);
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

// Parse and check the control message as common/run/ltb_control_msg.c does:
// absent keys keep their defaults, present keys must have the right type.
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
        Tls: false,
        TlsCaFile: null,
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
    bool('Tls');
    uint('Sleep', Number.MAX_SAFE_INTEGER);
    uint('SleepInterval', Number.MAX_SAFE_INTEGER);
    uint('Work', Number.MAX_SAFE_INTEGER);
    uint('Repeat', Number.MAX_SAFE_INTEGER);
    uint('NumTags', 1000);
    uint('NumLogs', 1000);
    uint('ReportingPeriodMs', 3600000);
    uint('MaxBufferedSpans', 100000000);
    if ('Protocol' in obj && typeof obj.Protocol !== 'string') {
        throw new Error('Protocol: not a string');
    }
    if ('TlsCaFile' in obj && obj.TlsCaFile !== null) {
        if (typeof obj.TlsCaFile !== 'string' || obj.TlsCaFile === '') {
            throw new Error('TlsCaFile: not a file name or null');
        }
        c.TlsCaFile = obj.TlsCaFile;
    }
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

// --- the OTEL_ environment -------------------------------------------------

// The signal's own variable wins over the general one, as the OTel
// specification says; an empty one counts as unset.
function otelEnv(name) {
    for (const k of [`OTEL_EXPORTER_OTLP_TRACES_${name}`, `OTEL_EXPORTER_OTLP_${name}`]) {
        const v = (process.env[k] || '').trim();
        if (v !== '') return { key: k, value: v };
    }
    return { key: `OTEL_EXPORTER_OTLP_${name}`, value: '' };
}

function exporterChoice() {
    const p = otelEnv('PROTOCOL');
    const z = otelEnv('COMPRESSION');
    const protocol = p.value || 'http/protobuf';
    const compression = z.value || 'none';
    if (protocol !== 'http/protobuf' && protocol !== 'http/json') {
        throw new Error(`${p.key}=${protocol}: not a protocol this client speaks `
            + '(http/protobuf or http/json)');
    }
    if (compression !== 'none' && compression !== 'gzip') {
        throw new Error(`${z.key}=${compression}: not none or gzip`);
    }
    return { protocol, compression };
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
// processor's exports) run for all but the last sub-millisecond part.
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

// --- counting what the SDK does with the spans ---------------------------

function newStats() {
    return {
        ended: 0,          // spans the processor was given
        handed: 0,         // spans in export() calls
        exported: 0,       // spans in exports that succeeded
        failed: 0,         // spans in exports that failed for good
        queueFull: 0,      // spans the processor dropped, its queue full
        rejected: 0,       // spans the collector rejected (partial_success)
        reportsOk: 0,
        reportsFailed: 0,
        dropHooked: false, // the processor asked for its drop counter
        diagShown: 0,
        diagSkipped: 0,
    };
}

// A MeterProvider for the processor's self-observability metrics whose one
// counter that matters adds up the spans dropped for a full queue; every
// other instrument is the API's NoOp.
function dropCountingMeterProvider(api, stats) {
    const noop = api.createNoopMeter();
    const meter = Object.create(noop);
    meter.createCounter = (name, options) => {
        if (name !== PROCESSED_METRIC) return noop.createCounter(name, options);
        stats.dropHooked = true;
        return {
            add(n, attrs) {
                if (attrs && attrs['error.type'] === 'queue_full') stats.queueFull += n;
            },
        };
    };
    return { getMeter: () => meter };
}

// The exporter the processor sees: the real one behind a count of the
// spans of each export and of its result.
function countingExporter(inner, core, stats) {
    return {
        export(spans, done) {
            const n = spans.length;
            stats.handed += n;
            inner.export(spans, (result) => {
                if (result.code === core.ExportResultCode.SUCCESS) {
                    stats.exported += n;
                    stats.reportsOk++;
                } else {
                    stats.failed += n;
                    stats.reportsFailed++;
                }
                done(result);
            });
        },
        forceFlush: () => (inner.forceFlush ? inner.forceFlush() : Promise.resolve()),
        shutdown: () => inner.shutdown(),
    };
}

// The span processor the provider sees: the batch processor, behind a
// count of the spans it was given.
function countingProcessor(inner, stats) {
    return {
        onStart: (span, ctx) => inner.onStart(span, ctx),
        onEnd: (span) => {
            stats.ended++;
            inner.onEnd(span);
        },
        forceFlush: () => inner.forceFlush(),
        shutdown: () => inner.shutdown(),
    };
}

// One line of a diagnostic's part. The SDK's error handler hands over an
// error as the JSON of its fields, stack included: keep what says why.
function diagText(a) {
    let e = a;
    if (typeof a === 'string' && a.startsWith('{"stack"')) {
        try {
            e = JSON.parse(a);
        } catch (x) {
            return a;
        }
    }
    if (e !== null && typeof e === 'object' && typeof e.message === 'string') {
        const data = typeof e.data === 'string' && e.data.trim() ? ` (${e.data.trim()})` : '';
        const code = e.code !== undefined ? ` ${e.code}` : '';
        return `${e.name || 'Error'}${code}: ${e.message}${data}`.replace(/\s+/g, ' ');
    }
    return String(a);
}

// SDK diagnostics to stderr, bounded; partial successes counted from the
// exporter's warning, which carries the collector's partial_success.
function diagLogger(stats) {
    const say = (level) => (msg, ...args) => {
        if (level === 'warn' && msg === 'Received Partial Success response:') {
            try {
                const ps = JSON.parse(args[0]);
                const n = Number(ps.rejectedSpans || 0);
                if (Number.isFinite(n) && n > 0) stats.rejected += n;
            } catch (e) {
                // Not the answer we know: shown below, not counted.
            }
        }
        if (stats.diagShown >= DIAG_LINES_MAX) {
            stats.diagSkipped++;
            return;
        }
        stats.diagShown++;
        const rest = args.map(diagText).join(' ');
        process.stderr.write(`${PROG}: [otel:${level}] ${diagText(msg)}${rest ? ` ${rest}` : ''}\n`);
    };
    return {
        error: say('error'), warn: say('warn'), info: say('info'),
        debug: say('debug'), verbose: say('verbose'),
    };
}

// --- the tracer ----------------------------------------------------------

function loadLibraries() {
    return {
        api: require('@opentelemetry/api'),
        core: require('@opentelemetry/core'),
        resources: require('@opentelemetry/resources'),
        sdk: require('@opentelemetry/sdk-trace-base'),
        proto: require('@opentelemetry/exporter-trace-otlp-proto'),
        json: require('@opentelemetry/exporter-trace-otlp-http'),
    };
}

function exportUrl(c) {
    const h = c.SatelliteHost.includes(':') ? `[${c.SatelliteHost}]` : c.SatelliteHost;
    return `${c.Tls ? 'https' : 'http'}://${h}:${c.SatellitePorts[0]}/v1/traces`;
}

// An error of the control message's making: exit 2, not 1.
function controlError(msg) {
    const e = new Error(msg);
    e.exitCode = 2;
    return e;
}

// The agent's options: keep-alive as the exporter's default; over TLS the
// satellite's certificate is self-signed, so not verified unless the
// message names the CA to verify it with.
function agentOptions(c) {
    const o = { keepAlive: true };
    if (c.Tls) {
        if (c.TlsCaFile !== null) {
            try {
                o.ca = fs.readFileSync(c.TlsCaFile);
            } catch (e) {
                throw controlError(`TlsCaFile: cannot read ${c.TlsCaFile}: ${e.code || e.message}`);
            }
        } else {
            o.rejectUnauthorized = false;
        }
    }
    return o;
}

// The provider, its batch processor and the exporter it exports through.
// Throws: a controlError for the message's faults (exit 2), anything else
// (the SDK's) exit 1.
function makeProvider(c, lib, choice, stats) {
    const agent = agentOptions(c);
    const Exporter = choice.protocol === 'http/json'
        ? lib.json.OTLPTraceExporter : lib.proto.OTLPTraceExporter;
    const real = new Exporter({
        url: exportUrl(c),
        compression: choice.compression,
        httpAgentOptions: agent,
    });
    const queue = Math.max(1, c.MaxBufferedSpans);
    const batch = Math.min(queue, Math.max(BATCH_DEFAULT, Math.ceil(queue / BATCHES_PER_FLUSH)));
    const exporter = countingExporter(real, lib.core, stats);
    const bsp = new lib.sdk.BatchSpanProcessor(exporter, {
        maxQueueSize: queue,
        maxExportBatchSize: batch,
        scheduledDelayMillis: Math.max(1, c.ReportingPeriodMs),
        selfObsMeterProvider: dropCountingMeterProvider(lib.api, stats),
    });
    if (!stats.dropHooked) {
        throw new Error(`the BatchSpanProcessor did not ask for ${PROCESSED_METRIC}: `
            + 'its queue drops could not be counted (not the pinned SDK?)');
    }
    const provider = new lib.sdk.BasicTracerProvider({
        resource: lib.resources.defaultResource().merge(
            lib.resources.resourceFromAttributes({ 'service.name': SERVICE_NAME })),
        spanProcessors: [countingProcessor(bsp, stats)],
        // The message's tags and logs, all of them, even past the SDK's
        // default limit of 128.
        spanLimits: {
            attributeCountLimit: Math.max(128, c.NumTags),
            eventCountLimit: Math.max(128, c.NumLogs),
        },
    });
    return { provider, bsp, exporter };
}

// Flush: the processor exports what it holds, then the exporter is waited
// for until every export it has running (the timer's too) has ended, its
// retries included. At most FLUSH_TIMEOUT_MS; a failed export is no
// error here: its spans are counted failed already.
async function flush(provider, exporter) {
    let timer;
    const timeout = new Promise((resolve) => {
        timer = setTimeout(() => resolve(false), FLUSH_TIMEOUT_MS);
    });
    const flushed = (async () => {
        await provider.forceFlush().catch(() => {});
        await exporter.forceFlush().catch(() => {});
        return true;
    })();
    const ok = await Promise.race([flushed, timeout]);
    clearTimeout(timer);
    if (!ok) warn(`gave up waiting for the exports after ${FLUSH_TIMEOUT_MS / 1000} s`);
    return ok;
}

// --- the run -------------------------------------------------------------

async function generate(c, api, tracer) {
    const attributes = {};
    for (let k = 0; k < c.NumTags; k++) attributes[`ltb.tag.${k}`] = `value-${k}`;
    const eventNames = [];
    for (let l = 0; l < c.NumLogs; l++) eventNames.push(`ltb.log.${l}`);
    const options = { attributes };

    let sleepDebt = 0;
    let made = 0;
    let lastYield = process.hrtime.bigint();
    while (made < c.Repeat) {
        const len = Math.min(SPANS_PER_CHAIN, c.Repeat - made);
        const open = [];
        let ctx = api.ROOT_CONTEXT;
        for (let d = 0; d < len; d++) {
            const span = tracer.startSpan(SPAN_NAMES[d], options, ctx);
            work(c.Work);
            for (let l = 0; l < eventNames.length; l++) {
                span.addEvent(eventNames[l], { 'ltb.span': made, 'ltb.index': l });
            }
            open.push(span);
            ctx = api.trace.setSpan(ctx, span);
            made++;
        }
        // Innermost first; the sleep debt accrues per finished span, as in
        // the original (sleep after each span, outside it).
        for (let j = open.length - 1; j >= 0; j--) {
            open[j].end();
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
    // Pay the debt left at the end, so the run is as long as Repeat spans
    // at the planned rate take (see the js-lightstep client).
    if (sleepDebt > 0) await sleepNs(sleepDebt);
    return made;
}

// What is lost, and where, once the run is over.
function accounting(stats, bsp) {
    const unsent = Math.max(0, stats.ended - stats.handed - stats.queueFull);
    const inFlight = Math.max(0, stats.handed - stats.exported - stats.failed);
    // A check on the count itself (a private field: checked, not relied on).
    const queued = bsp && Array.isArray(bsp._finishedSpans) ? bsp._finishedSpans.length : unsent;
    if (queued !== unsent) {
        warn(`count mismatch: ${unsent} spans unaccounted for, the processor holds ${queued}`);
    }
    return {
        dropped: stats.queueFull + stats.failed + stats.rejected + unsent + inFlight,
        unsent,
        inFlight,
    };
}

async function main() {
    const controlUrl = process.env.LTB_CONTROL_URL || DEFAULT_CONTROL_URL;

    // Load the SDK before fetching, in traced and NoOp runs alike: the
    // measurement window opens at the fetch, so module load is start-up,
    // not the tracer's cost per span. The tracer is built after.
    let lib;
    try {
        lib = loadLibraries();
    } catch (e) {
        die(127, `cannot load the OpenTelemetry SDK (run clients/js-otel/setup): ${e.message}`);
        return;
    }
    const tracerName = packageName('@opentelemetry/sdk-trace-base');

    let choice;
    try {
        choice = exporterChoice();
    } catch (e) {
        die(2, e.message);
        return;
    }

    let c;
    try {
        c = parseControl(await fetchText(controlUrl));
    } catch (e) {
        die(2, `cannot fetch control message from ${controlUrl}: ${e.message}`);
        return;
    }

    const stats = newStats();
    let built = null;
    if (c.Trace) {
        lib.api.diag.setLogger(diagLogger(stats), lib.api.DiagLogLevel.WARN);
        try {
            built = makeProvider(c, lib, choice, stats);
        } catch (e) {
            die(e.exitCode || 1, `cannot create the OpenTelemetry tracer: ${e.message}`);
            return;
        }
        lib.api.trace.setGlobalTracerProvider(built.provider);
    }
    const tracer = lib.api.trace.getTracer(SERVICE_NAME);

    const spansSent = await generate(c, lib.api, tracer);

    let acc = { dropped: 0, unsent: 0, inFlight: 0 };
    if (c.Trace) {
        if (!c.NoFlush) await flush(built.provider, built.exporter);
        acc = accounting(stats, built.bsp);
        if (stats.ended !== spansSent) {
            warn(`the processor was given ${stats.ended} spans of ${spansSent}`);
        }
    }
    if (stats.diagSkipped > 0) {
        warn(`${stats.diagSkipped} more SDK diagnostics not shown`);
    }

    finished = true;
    const line = JSON.stringify({
        type                  : 'client',
        v                     : 1,
        client                : CLIENT,
        trace                 : c.Trace,
        spans_sent            : spansSent,
        dropped               : Math.min(spansSent, acc.dropped),
        exporter              : choice.protocol,
        compression           : choice.compression,
        tls                   : c.Tls,
        reports_ok            : stats.reportsOk,
        reports_failed        : stats.reportsFailed,
        dropped_queue_full    : stats.queueFull,
        dropped_export_failed : stats.failed,
        rejected              : stats.rejected,
        unsent                : acc.unsent,
        in_flight             : acc.inFlight,
        tracer                : c.Trace ? tracerName : 'noop',
    });
    process.stdout.write(`${line}\n`, () => process.exit(0));
}

main().catch((e) => {
    if (!finished) die(1, `unexpected error: ${e && e.stack ? e.stack : e}`);
});
