// How fast the server takes pushes: many devices pushing valid, distinct check-ins to the real guihai-server
// (release build) on loopback, driven by autocannon. Each autocannon connection is one device: its own member,
// session token and client id, and its own seq counter, so its pushes stay numbered 1, 2, 3, … as a phone's do.
//
//   ingest      20 devices pushing batches of FIRST_PUSH_BATCH check-ins (a phone's first push of a round) back
//               to back: check-ins per second.
//   concurrent  1,000 devices pushing a few check-ins each, each pushing again as soon as it has its answer:
//               what the server can take at most.
//   spread      the same 1,000 devices each pushing once a second, their pushes spread over the second as a
//               fleet's are, for 20 s: the push latency the budget is for, from the moment all are running.
//   alone       one device doing the same: the latency of a push that waits for no other.
//
// Started by `cargo xtask bench` (it sets GUIHAI_SERVER_BIN, GUIHAI_DIST and GUIHAI_BENCH_SEED and turns this
// script's JSON, printed on stdout, into docs/benchmarks.md). Progress goes to stderr.

import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import autocannon from 'autocannon';
import { seededServer } from './seed.mjs';

/** core's `FIRST_PUSH_BATCH`. */
const FIRST_PUSH_BATCH = 200;
const INGEST = { devices: 20, perPush: FIRST_PUSH_BATCH, pushesPerDevice: 10 };
/**
 * A phone that was offline for a day or two brings a few check-ins. Enough activities that even one device
 * alone has new ones to push for the whole run.
 */
const CONCURRENT = { devices: 1000, perPush: 3, seconds: 10, activities: 18_000 };
/** Autocannon runs the spread devices are split into, started this fraction of a second apart. */
const SPREAD = { groups: 50, seconds: 20, startMs: 2_000 };

/** A fresh UUIDv7, as a phone makes one for each check-in. */
function uuidv7() {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(Date.now(), 0, 6);
  bytes[6] = 0x70 | (bytes[6] & 0x0f);
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = bytes.toString('hex');
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join('-');
}

/**
 * Runs autocannon with one connection per seeded member. A device's n-th push carries check-ins to activities
 * `n * perPush` onwards, numbered from its last answered seq, so every check-in is new to the server.
 * Returns autocannon's result and how many check-ins the server's answers say it applied.
 */
async function pushLoad(seeded, { perPush, members = seeded.members, latencies, ...options }) {
  let assigned = 0;
  let applied = 0;
  let notApplied = 0;
  const result = await autocannon({
    url: seeded.server.url,
    connections: members.length,
    // Each connection is one device; autocannon resets a request's context after every request, so a device
    // keeps its state here and sets its next push itself after each answer.
    setupClient(client) {
      const member = members[assigned++];
      const device = { pushed: 0, seq: 0 };
      // Behind a proxy, as a deployment is: each device from an address of its own, so that the per-address
      // limit (meant for one address, not a fleet) does not stand between a thousand phones and the server.
      const n = assigned;
      const headers = {
        authorization: `Bearer ${member.token}`,
        'content-type': 'application/json',
        'x-forwarded-for': `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
      };
      const next = () => {
        const first = device.pushed * perPush;
        const mutations = seeded.activities.slice(first, first + perPush).map((activity, i) => ({
          seq: device.seq + i + 1,
          occurred_at: Date.now(),
          kind: 'check_in',
          args: { id: uuidv7(), code: activity.payload },
        }));
        client.setHeadersAndBody(headers, JSON.stringify({ client_id: member.client_id, mutations }));
      };
      client.on('response', (status, _bytes, latencyMs) => {
        latencies?.push(latencyMs);
        if (status === 200) {
          device.pushed += 1;
          device.seq += perPush;
        }
        next();
      });
      next();
    },
    requests: [
      {
        method: 'POST',
        path: '/api/v1/sync/push',
        onResponse(status, body) {
          if (status !== 200) return;
          for (const { status: outcome } of JSON.parse(body).results) {
            if (outcome === 'applied') applied += 1;
            else notApplied += 1;
          }
        },
      },
    ],
    ...options,
  });
  return { result, applied, notApplied };
}

/** Where `q` of the sorted `values` lie below. */
const percentile = (values, q) => values[Math.max(0, Math.ceil(q * values.length) - 1)];

/** The percentiles of the sorted `latencies`, as autocannon gives them. */
function percentiles(latencies) {
  return {
    p50: percentile(latencies, 0.5),
    p90: percentile(latencies, 0.9),
    p99: percentile(latencies, 0.99),
    max: latencies.at(-1),
  };
}

/**
 * Devices that each push once a second, their pushes spread over the second as a fleet's are: autocannon paces
 * each connection but starts a run's connections together, which would make every second open with all of
 * them at once, so the devices run in `groups` autocannon runs started 1 s ÷ `groups` apart. The latencies of
 * all pushes answered after the first `startMs` are put together: while the runs are starting, this process is
 * busy setting them up and sends what they queued in bursts (the server's log shows it receiving nearly nothing
 * for most of a second, then hundreds of pushes at once), which measures the load generator, not the server.
 * Those are kept apart (`startLatency`). The result has the shape of one autocannon run's.
 */
async function spreadLoad(seeded, { perPush, groups, startMs, ...options }) {
  const latencies = [];
  const startLatencies = [];
  const measuredFrom = Date.now() + startMs;
  const size = Math.ceil(seeded.members.length / groups);
  const loads = await Promise.all(
    Array.from({ length: groups }, async (_, group) => {
      await new Promise((resolve) => setTimeout(resolve, (1000 * group) / groups));
      const members = seeded.members.slice(group * size, (group + 1) * size);
      const sorted = { push: (latency) => (Date.now() < measuredFrom ? startLatencies : latencies).push(latency) };
      return pushLoad(seeded, { perPush, members, latencies: sorted, connectionRate: 1, ...options });
    }),
  );
  latencies.sort((a, b) => a - b);
  const all = [...latencies, ...startLatencies].sort((a, b) => a - b);
  const results = loads.map((load) => load.result);
  const sum = (field) => loads.reduce((total, load) => total + field(load), 0);
  const statusCodeStats = {};
  for (const result of results) {
    for (const [code, { count }] of Object.entries(result.statusCodeStats)) {
      statusCodeStats[code] = { count: (statusCodeStats[code]?.count ?? 0) + count };
    }
  }
  return {
    result: {
      connections: sum((load) => load.result.connections),
      requests: { total: sum((load) => load.result.requests.total) },
      duration: Math.max(...results.map((result) => result.duration)),
      non2xx: sum((load) => load.result.non2xx),
      statusCodeStats,
      errors: sum((load) => load.result.errors),
      timeouts: sum((load) => load.result.timeouts),
      latency: percentiles(latencies),
    },
    withStart: { measuredAfterMs: startMs, latencyMs: percentiles(all) },
    applied: sum((load) => load.applied),
    notApplied: sum((load) => load.notApplied),
  };
}

/** The errors the server logged, by message: why a push failed. */
async function loggedErrors(server) {
  const errors = {};
  for (const line of (await readFile(server.logFile, 'utf8')).split('\n')) {
    const error = / ERROR .*\berror=(.*)$/.exec(line)?.[1];
    if (error) errors[error] = (errors[error] ?? 0) + 1;
  }
  return errors;
}

/** The figures of one run, in milliseconds and per second. */
function figures({ result, applied, notApplied, withStart }, perPush, serverErrors) {
  return {
    withStart,
    devices: result.connections,
    checkInsPerPush: perPush,
    pushes: result.requests.total,
    seconds: result.duration,
    pushesPerSecond: result.requests.total / result.duration,
    checkInsApplied: applied,
    checkInsNotApplied: notApplied,
    non2xx: result.non2xx,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count])),
    errors: result.errors,
    timeouts: result.timeouts,
    serverErrors,
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
  };
}

async function run(name, seed, load) {
  const seeded = await seededServer(seed);
  try {
    const pushed = load.groups ? await spreadLoad(seeded, load) : await pushLoad(seeded, load);
    const measured = figures(pushed, load.perPush, await loggedErrors(seeded.server));
    console.error(`${name}: ${JSON.stringify(measured)}`);
    return measured;
  } finally {
    await seeded.stop();
  }
}

/** `devices` devices pushing a few check-ins each, for a while (`spread`: each once a second, see `spreadLoad`). */
const concurrent = (name, devices, spread = {}) =>
  run(
    name,
    { members: devices, activities: CONCURRENT.activities },
    {
      perPush: CONCURRENT.perPush,
      duration: CONCURRENT.seconds,
      // Never past the seeded activities: a repeated check-in would be a cheap duplicate, not an ingest.
      maxConnectionRequests: Math.floor(CONCURRENT.activities / CONCURRENT.perPush),
      ...spread,
    },
  );

const result = {
  ingest: await run(
    'ingest',
    { members: INGEST.devices, activities: INGEST.perPush * INGEST.pushesPerDevice },
    { perPush: INGEST.perPush, maxConnectionRequests: INGEST.pushesPerDevice, duration: 600 },
  ),
  concurrent: await concurrent('concurrent', CONCURRENT.devices),
  spread: await concurrent('spread', CONCURRENT.devices, {
    groups: SPREAD.groups,
    startMs: SPREAD.startMs,
    duration: SPREAD.seconds,
  }),
  alone: await concurrent('alone', 1),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
