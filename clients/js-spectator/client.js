#!/usr/bin/env node
// client.js: the ltb client for the real nflx-spectator 1.0.0 from npm
// (Netflix's Spectator for Node.js, the "thick" client: meters aggregate in
// the process and its registry publishes them every step over HTTP),
// publishing to POST /api/v1/publish on the satellites.
//
// It follows the client contract, ltb-client(7), for a metrics client: load
// the library, then GET the control message once from LTB_CONTROL_URL
// (http://, https:// or file://; the measurement window opens there), make
// exactly Repeat measurements (meter updates), each doing Work
// floating-point multiplications, on the meter types Meters names in turn,
// each meter with NumTags tags; sleep SleepInterval ns whenever the
// accumulated Sleep debt exceeds it; then (unless NoFlush) stop the
// registry, which publishes what it holds, and wait for every publish to
// be answered, at most FLUSH_TIMEOUT_MS.
//
// The control message says where and how often:
//   SatelliteHost, SatellitePorts[0] -> uri http://HOST:PORT/api/v1/publish
//                                       (IPv6 literals bracketed)
//   ReportingPeriodMs                -> frequency (the registry's step)
//   Meters                           -> counter, timer, gauge,
//                                       distribution_summary,
//                                       percentile_timer,
//                                       percentile_distribution_summary;
//                                       the other spectatord types have no
//                                       nflx-spectator 1.0.0 meter: exit 2
// Protocol is ignored (the library speaks its own publish); Tls is refused
// (exit 2): the registry is given an http URI only.
//
// Trace false: no registry at all. Meters of a local NoOp registry take the
// same calls and do nothing, as an instrumented program's meters do without
// the library. (nflx-spectator 1.0.0's own NopRegistry, src/nop_registry.js,
// is not exported, makes only counters and gauges, and its meters count.)
//
// What a measurement is. The registry aggregates: N updates of a counter in
// one step publish ONE measurement (a timer four: count, totalTime,
// totalOfSquares, max), and the registry's own meters publish too
// (ipc.client.call, a percentile timer of its publishes, and
// spectator.measurements). So the unit the satellites count, and so
// spans_sent here, is the measurement PUBLISHED, not the update: the client
// counts the measurements of every publish the registry makes, through a
// thin wrapper of its publisher's _sendMeasurements, and those the registry
// still held at exit. With every publish answered, the satellites'
// spans_received equals spans_sent.
//
// stdout carries exactly one JSON line, printed at exit:
//   {"type":"client","v":1,"client":"js-spectator","trace":B,
//    "spans_sent":N,"dropped":D,"updates":U,"publishes_ok":P,
//    "publishes_failed":F,"measurements_own":O,"measurements_library":L,
//    "rejected":J,"failed":X,"in_flight":I,"unsent":S,
//    "library_unpublished":R,"tracer":"nflx-spectator 1.0.0"}
// spans_sent = O + L + S: what the registry published (its own meters, L,
// among them) and what of the client's meters it held unpublished at exit
// (S: NoFlush, or a flush that gave up); dropped = J + X + I + S, what the
// client knows is
// lost: J measurements the satellites refused in a 202 or 400 (Atlas's
// errorCount), X in publishes that failed (no answer, or a 5xx), I in
// publishes unanswered at exit. (nflx-spectator 1.0.0's ipc.client.call
// meter carries ipc.endpoint=/api/v1/publish, whose '/' Atlas's batch
// validation refuses; the satellites read this client's compact payload
// as the atlas-aggregator it is made for does, replacing the character.)
// updates is the Repeat done. R is what the registry's own meters hold at
// exit, its record of the last publish, which no flush can send: neither
// sent nor dropped.
//
// Exit codes: 0 done (even if measurements were lost: that is what
// "dropped" says); 1 the registry could not be built; 2 the control message
// could not be fetched, parsed or used; 127 the npm dependencies are not
// installed (run ./setup).

'use strict';

const fs = require('fs');
const http = require('http');
const https = require('https');
const url = require('url');

const PROG = 'client.js';
const CLIENT = 'js-spectator';
const APP = 'ltb-client-js-spectator';
const DEFAULT_CONTROL_URL = 'http://127.0.0.1:8024/control';
const FETCH_TIMEOUT_MS = 10000;
// A publish that gets no answer fails after the library's timeout (1 s by
// default); the flush waits for every publish at most this long.
const FLUSH_TIMEOUT_MS = 4000;
const YIELD_EVERY_NS = 1000000n;
const LOG_LINES_MAX = 20;
// The registry's own meters (publisher.js, log_entry.js).
const LIBRARY_METERS = new Set(['ipc.client.call', 'spectator.measurements']);

let finished = false;

function warn(msg) {
    process.stderr.write(`${PROG}: ${msg}\n`);
}

function die(code, msg) {
    finished = true;
    process.stderr.write(`${PROG}: ${msg}\n`, () => process.exit(code));
    setTimeout(() => process.exit(code), 1000).unref();
}

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

// The meter types this library has, by the control message's names.
const METER_TYPES = {
    counter: (r, name, tags) => {
        const m = r.counter(name, tags);
        return () => m.increment();
    },
    timer: (r, name, tags) => {
        const m = r.timer(name, tags);
        return (t0) => m.record(process.hrtime(t0));
    },
    gauge: (r, name, tags) => {
        const m = r.gauge(name, tags);
        let v = 0;
        return () => m.set(v++);
    },
    distribution_summary: (r, name, tags) => {
        const m = r.distributionSummary(name, tags);
        let v = 0;
        return () => m.record(v++ % 1000);
    },
    percentile_timer: (r, name, tags) => {
        const m = r.percentileTimer(name, tags);
        return (t0) => m.record(process.hrtime(t0));
    },
    percentile_distribution_summary: (r, name, tags) => {
        const m = r.percentileDistSummary(name, tags);
        let v = 0;
        return () => m.record(v++ % 1000);
    },
};
const SPECTATORD_TYPES = new Set([
    'counter', 'monotonic_counter', 'monotonic_counter_uint', 'distribution_summary',
    'percentile_distribution_summary', 'timer', 'percentile_timer', 'gauge',
    'max_gauge', 'age_gauge', 'monotonic_sampled',
]);

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
        Tls: false,
        SatelliteHost: '127.0.0.1',
        SatellitePorts: [8360, 8361, 8362, 8363, 8364, 8365, 8366, 8367],
        ReportingPeriodMs: 200,
        Meters: ['counter', 'timer', 'gauge'],
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
    uint('ReportingPeriodMs', 3600000);
    if ('Protocol' in obj && typeof obj.Protocol !== 'string') {
        throw new Error('Protocol: not a string');
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
    if ('Meters' in obj) {
        const m = obj.Meters;
        if (!Array.isArray(m) || m.length < 1 || m.length > 8
            || !m.every((x) => typeof x === 'string' && SPECTATORD_TYPES.has(x))) {
            throw new Error('Meters: not a list of 1 to 8 meter types');
        }
        for (const x of m) {
            if (!(x in METER_TYPES)) {
                throw new Error(`Meters: nflx-spectator 1.0.0 has no ${x} meter `
                    + `(it has ${Object.keys(METER_TYPES).join(', ')})`);
            }
        }
        c.Meters = m;
    }
    if (c.Tls) {
        throw new Error('Tls: this client publishes over plain HTTP only');
    }
    return c;
}

// --- work and sleep ------------------------------------------------------

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
// registry's publishes) run for all but the last sub-millisecond part.
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

// --- the registry --------------------------------------------------------

function newStats() {
    return {
        own: 0,           // the client's meters' measurements published
        library: 0,       // the registry's own meters' measurements published
        ok: 0,            // measurements in publishes answered 2xx, not refused
        rejected: 0,      // refused by the satellites (errorCount)
        failed: 0,        // in publishes that failed
        unsent: 0,        // the client's meters' held by the registry at exit
        libraryLeft: 0,   // the registry's own held at exit
        outstanding: 0,   // publishes unanswered
        inFlight: 0,      // measurements in them
        publishesOk: 0,
        publishesFailed: 0,
        logShown: 0,
        logSkipped: 0,
    };
}

// The library's log lines to stderr, bounded; debug and trace dropped.
function logger(stats) {
    const seen = new Set();
    const say = (level) => (msg) => {
        // The publisher says the same refusal at every publish: once.
        const key = `${level} ${msg}`;
        if (seen.has(key) || stats.logShown >= LOG_LINES_MAX) {
            stats.logSkipped++;
            return;
        }
        stats.logShown++;
        seen.add(key);
        process.stderr.write(`${PROG}: [spectator:${level}] ${msg}\n`);
    };
    const quiet = () => {};
    return {
        trace: quiet, debug: quiet, info: say('info'), warn: say('warn'),
        error: say('error'), isLevelEnabled: (l) => l !== 'trace' && l !== 'debug',
    };
}

// The measurements of a publish and its answer, as the publisher reads
// them (publisher.js): 200 all taken; another status below 500 with an
// errorCount, that many refused; anything else, all lost.
function countPublishes(registry, stats) {
    const pub = registry.publisher;
    const send = pub._sendMeasurements;
    if (typeof send !== 'function') {
        throw new Error('the registry has no publisher._sendMeasurements: '
            + 'its publishes could not be counted (not nflx-spectator 1.0.0?)');
    }
    pub._sendMeasurements = function counted(measurements, cb) {
        const n = measurements.length;
        for (const m of measurements) {
            if (LIBRARY_METERS.has(m.id.name)) stats.library++;
            else stats.own++;
        }
        stats.outstanding++;
        stats.inFlight += n;
        return send.call(this, measurements, (err, res) => {
            stats.outstanding--;
            stats.inFlight -= n;
            if (err || !res) {
                stats.failed += n;
                stats.publishesFailed++;
            } else if (res.statusCode === 200) {
                stats.ok += n;
                stats.publishesOk++;
            } else if (res.statusCode < 500) {
                let body = res.body;
                if (typeof body !== 'object' || body === null) {
                    try {
                        body = JSON.parse(String(body));
                    } catch (e) {
                        body = {};
                    }
                }
                const j = Number.isInteger(body.errorCount) ? Math.min(n, body.errorCount) : n;
                stats.rejected += j;
                stats.ok += n - j;
                stats.publishesOk++;
            } else {
                stats.failed += n;
                stats.publishesFailed++;
            }
            if (cb) cb(err, res);
        });
    };
}

function publishUri(c) {
    const h = c.SatelliteHost.includes(':') ? `[${c.SatelliteHost}]` : c.SatelliteHost;
    return `http://${h}:${c.SatellitePorts[0]}/api/v1/publish`;
}

function makeRegistry(c, spectator, stats) {
    const registry = new spectator.Registry({
        uri: publishUri(c),
        frequency: Math.max(1, c.ReportingPeriodMs),
        commonTags: { 'nf.app': APP },
        logger: logger(stats),
    });
    countPublishes(registry, stats);
    registry.start();
    return registry;
}

// A NoOp registry: the meters an instrumented program calls, doing nothing.
function noopRegistry() {
    const meter = { increment() {}, record() {}, set() {} };
    return {
        counter: () => meter,
        timer: () => meter,
        gauge: () => meter,
        distributionSummary: () => meter,
        percentileTimer: () => meter,
        percentileDistSummary: () => meter,
    };
}

// Stop the registry: it publishes what it holds; then wait until every
// publish is answered, at most FLUSH_TIMEOUT_MS. NoFlush: stop without
// that last publish.
async function finish(registry, c, stats) {
    if (c.NoFlush) {
        clearInterval(registry.startId);
        registry.started = false;
    } else {
        await new Promise((resolve) => {
            const t = setTimeout(resolve, FLUSH_TIMEOUT_MS);
            registry.stop(() => {
                clearTimeout(t);
                resolve();
            });
        });
        const deadline = Date.now() + FLUSH_TIMEOUT_MS;
        while (stats.outstanding > 0 && Date.now() < deadline) {
            await new Promise((resolve) => { setTimeout(resolve, 10); });
        }
        if (stats.outstanding > 0) {
            warn(`gave up waiting for ${stats.outstanding} publishes after ${FLUSH_TIMEOUT_MS / 1000} s`);
        }
    }
    // What the registry still holds was never published (measuring it
    // resets the meters: the run is over). After a flush that is only the
    // registry's own record of its last publish (ipc.client.call,
    // spectator.measurements), which no flush can send: counted apart.
    for (const m of registry.publisher.registryMeasurements()) {
        if (LIBRARY_METERS.has(m.id.name)) stats.libraryLeft++;
        else stats.unsent++;
    }
}

// --- the run -------------------------------------------------------------

async function generate(c, registry) {
    const tags = {};
    for (let k = 0; k < c.NumTags; k++) tags[`ltb.tag.${k}`] = `value-${k}`;
    const updates = c.Meters.map((type) => METER_TYPES[type](registry, `ltb.${type}`, tags));

    let sleepDebt = 0;
    let made = 0;
    let lastYield = process.hrtime.bigint();
    while (made < c.Repeat) {
        const t0 = process.hrtime();
        work(c.Work);
        updates[made % updates.length](t0);
        made++;
        sleepDebt += c.Sleep;
        if (sleepDebt > c.SleepInterval) {
            sleepDebt -= c.SleepInterval;
            await sleepNs(c.SleepInterval);
            lastYield = process.hrtime.bigint();
        }
        const now = process.hrtime.bigint();
        if (now - lastYield >= YIELD_EVERY_NS) {
            await yieldToLoop();
            lastYield = process.hrtime.bigint();
        }
    }
    if (sleepDebt > 0) await sleepNs(sleepDebt);
    return made;
}

function packageName(name) {
    let version = 'unknown';
    try {
        version = require(`${name}/package.json`).version || version;
    } catch (e) {
        // an unreadable package.json is no reason to fail a run
    }
    return `${name} ${version}`;
}

async function main() {
    const controlUrl = process.env.LTB_CONTROL_URL || DEFAULT_CONTROL_URL;

    // Load the library before fetching, in traced and NoOp runs alike: the
    // measurement window opens at the fetch.
    let spectator;
    try {
        spectator = require('nflx-spectator');
    } catch (e) {
        die(127, `cannot load nflx-spectator (run clients/js-spectator/setup): ${e.message}`);
        return;
    }
    const tracerName = packageName('nflx-spectator');

    let c;
    try {
        c = parseControl(await fetchText(controlUrl));
    } catch (e) {
        die(2, `cannot fetch control message from ${controlUrl}: ${e.message}`);
        return;
    }

    const stats = newStats();
    let registry;
    if (c.Trace) {
        try {
            registry = makeRegistry(c, spectator, stats);
        } catch (e) {
            die(1, `cannot create the spectator registry: ${e.message}`);
            return;
        }
    } else {
        registry = noopRegistry();
    }

    const updates = await generate(c, registry);
    if (c.Trace) await finish(registry, c, stats);
    if (stats.logSkipped > 0) warn(`${stats.logSkipped} more library log lines (or repeats) not shown`);

    const sent = stats.own + stats.library + stats.unsent;
    const dropped = stats.rejected + stats.failed + stats.inFlight + stats.unsent;
    finished = true;
    const line = JSON.stringify({
        type: 'client',
        v: 1,
        client: CLIENT,
        trace: c.Trace,
        spans_sent: sent,
        dropped,
        updates,
        publishes_ok: stats.publishesOk,
        publishes_failed: stats.publishesFailed,
        measurements_own: stats.own,
        measurements_library: stats.library,
        rejected: stats.rejected,
        failed: stats.failed,
        in_flight: stats.inFlight,
        unsent: stats.unsent,
        library_unpublished: stats.libraryLeft,
        tracer: c.Trace ? tracerName : 'noop',
    });
    process.stdout.write(`${line}\n`, () => process.exit(0));
}

main().catch((e) => {
    if (!finished) die(1, `unexpected error: ${e && e.stack ? e.stack : e}`);
});
