// Check-ins made offline by the real app, then synced, in Chromium:
// - 1,000 check-ins, then online on loopback and on a 3G network: how long until nothing waits in the outbox
//   (three runs on each network, each with a fresh server and browser profile);
// - 10,000 check-ins on one phone: the time each takes from the code read (and checked) to the stored record, the 1st and
//   the 10,000th, with the CPU as it is and slowed down 4x; what they take of the phone's storage, waiting and
//   synced (`navigator.storage.estimate()`); and the time to sync them on loopback. In the same run, in the same
//   Chromium, `peer.mjs` does the same with PouchDB, for the comparison.
//
// GH-M01 signs in through the app (release build, service worker active) on a server seeded with that many
// activities of their organisation running now; the phone goes offline and opens the check-in links
// `/q/<payload>` one after another in the app (the router's own navigation: `history.pushState` and a `popstate`
// event, as a tap on a link does), so the app itself checks each code and stores each check-in.
//
// Started by `cargo xtask bench` (it sets GUIHAI_SERVER_BIN, GUIHAI_DIST and GUIHAI_BENCH_SEED and turns this
// script's JSON, printed on stdout, into docs/benchmarks.md). Progress goes to stderr.

import assert from 'node:assert/strict';
import { serverCheckIns, signInOnPhone, waitForFirstSync } from '../e2e/flows.mjs';
import { launchBrowser, newPhone, waitForServiceWorker } from '../e2e/harness.mjs';
import { storeCounts } from '../e2e/store.mjs';
import { bytesPer, median, usage } from './measure.mjs';
import { comparePeer } from './peer.mjs';
import { seededServer } from './seed.mjs';

const CHECK_INS = 1000;
const MANY = 10_000;
/** Runs on each network with 1,000 check-ins: each takes under a minute. */
const RUNS = 3;
const MEMBER = 'GH-M01';
const TIMEOUT_MS = 600_000;
/**
 * Check-ins whose times make "the 1st" and "the 10,000th": the median of this many at each end. Twenty made the
 * figure a draw on this shared machine: three runs of the same build gave 0.71x, 2.87x and 1.60x, while the
 * medians of twenty taken across one run went up and down between 2.6 and 7.9 ms with no trend. The figures of
 * twenty are still printed, from the same run (`NARROW`), beside these.
 */
const WINDOW = 100;
/** The window before: twenty check-ins, the ones of each window of a hundred nearest its own end of the run. */
const NARROW = 20;
/** How much the CPU is slowed down for the phone-like figures. */
const SLOWDOWN = 4;
/**
 * The networks the phone comes back to. 3G: the throughput of Chrome DevTools' former "Regular 3G" preset
 * (750 kbit/s down, 250 kbit/s up) with the round trip of Lighthouse's "regular 3G" (300 ms).
 */
const NETWORKS = [
  { name: 'loopback', latencyMs: 0, downKbps: 0, upKbps: 0 },
  { name: '3G', latencyMs: 300, downKbps: 750, upKbps: 250 },
];

/** Sets the page's network through the DevTools protocol; 0 kbit/s means not throttled. */
function emulate(cdp, { offline = false, latencyMs = 0, downKbps = 0, upKbps = 0 }) {
  const bytesPerSecond = (kbps) => (kbps > 0 ? (kbps * 1000) / 8 : -1);
  return cdp.send('Network.emulateNetworkConditions', {
    offline,
    latency: latencyMs,
    downloadThroughput: bytesPerSecond(downKbps),
    uploadThroughput: bytesPerSecond(upKbps),
  });
}

/**
 * Opens each activity's link in the app, as a tap on a link would, and waits for each check-in to be confirmed
 * on the screen. Returns the milliseconds it all took.
 */
function checkInEverywhere(page, activities) {
  return page.evaluate(async (activities) => {
    const started = performance.now();
    for (const { payload, title } of activities) {
      history.pushState(null, '', `/q/${payload}`);
      dispatchEvent(new PopStateEvent('popstate'));
      await new Promise((resolve, reject) => {
        const settled = () => {
          const result = document.querySelector('[data-testid=checkin-result]');
          if (result?.dataset.result === 'done') {
            if (result.querySelector('[data-testid=checkin-activity]')?.textContent !== title) return false;
            resolve();
          } else if (result && result.dataset.result !== 'already') {
            reject(new Error(`checking in to ${title}: ${result.dataset.result} ${result.dataset.error ?? ''}`));
          } else {
            return false;
          }
          return true;
        };
        if (settled()) return;
        new MutationObserver((_, observer) => settled() && observer.disconnect()).observe(document.body, {
          subtree: true,
          childList: true,
          characterData: true,
          attributes: true,
        });
      });
    }
    return performance.now() - started;
  }, activities);
}

/** The app's own measure of each check-in, from the code read (and checked) to the stored record, in milliseconds. */
function checkInTimes(page) {
  return page.evaluate(() => performance.getEntriesByName('guihai:check-in').map((entry) => entry.duration));
}

/** Notes in the page when it learns it is online, when nothing waits in the outbox, and when the round is done. */
function watchSync(page) {
  return page.evaluate(() => {
    const badge = () => document.querySelector('[data-testid=sync-badge]');
    window.__sync = { lastSynced: Number(badge().dataset.lastSynced) };
    addEventListener('online', () => (window.__sync.onlineAt = performance.now()), { once: true });
    new MutationObserver((_, observer) => {
      const { dataset } = badge() ?? { dataset: {} };
      if (window.__sync.onlineAt === undefined) return;
      if (dataset.waiting === '0') window.__sync.emptyAt ??= performance.now();
      if (Number(dataset.lastSynced) > window.__sync.lastSynced) {
        window.__sync.doneAt = performance.now();
        observer.disconnect();
      }
    }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['data-waiting', 'data-last-synced'] });
  });
}

/** A phone signed in as the member, synced, then offline. */
async function offlinePhone(browser, seeded) {
  const phone = await newPhone(browser, seeded.server.url);
  const page = await phone.newPage();
  await signInOnPhone(page, MEMBER);
  await waitForServiceWorker(page);
  // The first round after sign-in has pulled the member's records (and the activities).
  await waitForFirstSync(page);
  const cdp = await phone.newCDPSession(page);
  await cdp.send('Network.enable');
  await emulate(cdp, { offline: true });
  await page.locator('[data-testid=sync-badge][data-state=offline]').waitFor();
  return { phone, page, cdp };
}

/** Brings the phone back on `network` and returns how long the outbox and the round took, once both are done. */
async function syncOn(page, cdp, network) {
  await watchSync(page);
  await emulate(cdp, network);
  await page.waitForFunction(() => window.__sync.doneAt !== undefined && window.__sync.emptyAt !== undefined, null, {
    timeout: TIMEOUT_MS,
    polling: 50,
  });
  return page.evaluate(() => ({
    emptyMs: Math.round(window.__sync.emptyAt - window.__sync.onlineAt),
    roundMs: Math.round(window.__sync.doneAt - window.__sync.onlineAt),
  }));
}

/** Nothing refused, nothing waiting, and the server holds each check-in once. */
async function assertSynced(page, url, count) {
  const counts = await storeCounts(page);
  assert.equal(counts.outbox, 0);
  assert.equal(counts.refused, 0, 'no check-in was refused');
  const onServer = await serverCheckIns(url, MEMBER);
  assert.equal(new Set(onServer.map((checkIn) => checkIn.activity_id)).size, count);
  assert.equal(onServer.length, count);
}

async function thousandOffline(browser, network) {
  const seeded = await seededServer({ members: 0, activities: CHECK_INS });
  const { phone, page, cdp } = await offlinePhone(browser, seeded);
  try {
    const makeMs = await checkInEverywhere(page, seeded.activities);
    assert.equal((await storeCounts(page)).outbox, CHECK_INS);
    const times = await syncOn(page, cdp, network);
    await assertSynced(page, seeded.server.url, CHECK_INS);
    return { makeMs: Math.round(makeMs), ...times };
  } finally {
    await phone.close();
    await seeded.stop();
  }
}

/** 10,000 check-ins on one phone: times at both ends, with the CPU as it is and slowed down, storage, sync. */
async function tenThousand(browser) {
  const seeded = await seededServer({ members: 0, activities: MANY });
  const { phone, page, cdp } = await offlinePhone(browser, seeded);
  try {
    const throttle = (rate) => cdp.send('Emulation.setCPUThrottlingRate', { rate });
    const before = await usage(page);
    // The page opens the links it is handed in stretches, each at one CPU speed; the first check-ins after it is
    // handed a new list are slower whatever the store holds. So each window as it is comes after `WINDOW` others
    // of its own stretch, at both ends, and each slowed-down window starts its stretch, at both ends.
    const stretches = [
      // On a nearly empty store: as it is, then slowed down.
      [0, 2 * WINDOW, 1],
      [2 * WINDOW, 3 * WINDOW, SLOWDOWN],
      // The bulk, as fast as it goes, ending with the last ones as it is on a store of nearly 10,000, then the
      // last ones slowed down.
      [3 * WINDOW, MANY - WINDOW, 1],
      [MANY - WINDOW, MANY, SLOWDOWN],
    ];
    // The measured windows: the first and last `WINDOW` check-ins as they are and slowed down.
    const windows = [
      [WINDOW, 2 * WINDOW],
      [2 * WINDOW, 3 * WINDOW],
      [MANY - 2 * WINDOW, MANY - WINDOW],
      [MANY - WINDOW, MANY],
    ];
    let makeMs = 0;
    for (const [from, to, rate] of stretches) {
      await throttle(rate);
      makeMs += await checkInEverywhere(page, seeded.activities.slice(from, to));
      console.error(`10,000: ${to} made`);
    }
    await throttle(1);
    const times = await checkInTimes(page);
    assert.equal(times.length, MANY, 'one measure per check-in');
    const window = (n) => median(times.slice(windows[n][0], windows[n][1]));
    // As the window of twenty was taken: right after the first twenty as it is, at the start of a stretch
    // slowed down, and at the very end of the bulk (its last twenty) as it is.
    const narrow = [
      median(times.slice(NARROW, 2 * NARROW)),
      median(times.slice(windows[1][0], windows[1][0] + NARROW)),
      median(times.slice(windows[2][1] - NARROW, windows[2][1])),
      median(times.slice(windows[3][0], windows[3][0] + NARROW)),
    ];
    assert.equal((await storeCounts(page)).outbox, MANY);
    const waiting = await usage(page);

    const sync = await syncOn(page, cdp, NETWORKS[0]);
    await assertSynced(page, seeded.server.url, MANY);
    assert.equal((await storeCounts(page)).checkins, MANY);
    const synced = await usage(page);
    return {
      checkIns: MANY,
      window: WINDOW,
      slowdown: SLOWDOWN,
      firstMs: window(0),
      firstSlowMs: window(1),
      lastMs: window(2),
      lastSlowMs: window(3),
      narrow: { window: NARROW, firstMs: narrow[0], firstSlowMs: narrow[1], lastMs: narrow[2], lastSlowMs: narrow[3] },
      makeMs: Math.round(makeMs),
      ...sync,
      bytesWaiting: bytesPer(before, waiting, MANY),
      bytesSynced: bytesPer(before, synced, MANY),
      payloads: seeded.activities.map(({ id, payload }) => ({ id, payload })),
    };
  } finally {
    await phone.close();
    await seeded.stop();
  }
}

const browser = await launchBrowser();
try {
  const networks = [];
  for (const network of NETWORKS) {
    const runs = [];
    for (let run = 1; run <= RUNS; run += 1) {
      const measured = await thousandOffline(browser, network);
      runs.push(measured);
      console.error(`${network.name} ${run}/${RUNS}: ${JSON.stringify(measured)}`);
    }
    networks.push({ ...network, runs });
  }
  const { payloads, ...many } = await tenThousand(browser);
  console.error(`10,000: ${JSON.stringify(many)}`);
  const peer = await comparePeer(browser, payloads);
  console.error(`peer: ${JSON.stringify(peer)}`);
  const result = { chromium: browser.version(), checkIns: CHECK_INS, member: MEMBER, networks, many, peer };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await browser.close();
}
