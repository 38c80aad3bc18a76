// 1,000 check-ins made offline by the real app, then synced: how long the phone takes to empty its outbox once it
// is online again, on loopback and on a 3G network, and what the check-ins cost in local storage.
//
// The member GH-M01 signs in through the app (release build, service worker active) on a server seeded with
// 1,000 activities of their organisation running now; the phone goes offline and opens the 1,000 check-in links
// `/q/<payload>` one after another in the app (the router's own navigation: `history.pushState` and a
// `popstate` event, as a tap on a link does), so the app itself checks each code and queues each check-in.
// Then the phone goes online and the clock runs from the page's `online` event until the sync badge shows
// nothing waiting. Three runs on each network, each with a fresh server and browser profile.
//
// Started by `cargo xtask bench` (it sets GUIHAI_SERVER_BIN, GUIHAI_DIST and GUIHAI_BENCH_SEED and turns this
// script's JSON, printed on stdout, into docs/benchmarks.md). Progress goes to stderr.

import assert from 'node:assert/strict';
import { localQueue, serverCheckIns, signInOnPhone } from '../e2e/flows.mjs';
import { launchBrowser, newPhone, waitForServiceWorker } from '../e2e/harness.mjs';
import { seededServer } from './seed.mjs';

const CHECK_INS = 1000;
/** Runs on each network: each takes about a minute, most of it making the check-ins. */
const RUNS = 3;
const MEMBER = 'GH-M01';
const TIMEOUT_MS = 300_000;
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
 * localStorage by kind of key (ids and numbers at the end replaced by `*`: `gh1:outbox:*`), in keys and bytes
 * as Chromium counts them against its quota: the UTF-16 code units of key and value, 2 bytes each.
 */
function storageUse(page) {
  return page.evaluate(() => {
    const kinds = {};
    for (let i = 0; i < localStorage.length; i += 1) {
      const key = localStorage.key(i);
      const kind = key.replace(/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d+)$/, '*');
      kinds[kind] ??= { keys: 0, bytes: 0 };
      kinds[kind].keys += 1;
      kinds[kind].bytes += 2 * (key.length + localStorage.getItem(key).length);
    }
    return kinds;
  });
}

const bytesOf = (use, kind) => use[kind]?.bytes ?? 0;
const totalBytes = (use) => Object.values(use).reduce((sum, { bytes }) => sum + bytes, 0);

/**
 * Opens every activity's link in the app, as a tap on a link would, and waits for each check-in to be confirmed
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
          } else if (result) {
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

/** Notes in the page when it learns it is online, and when the sync badge then shows nothing waiting. */
function watchSync(page) {
  return page.evaluate(() => {
    window.__sync = {};
    addEventListener('online', () => (window.__sync.onlineAt = performance.now()), { once: true });
    new MutationObserver((_, observer) => {
      const badge = document.querySelector('[data-testid=sync-badge]');
      if (window.__sync.onlineAt !== undefined && badge?.dataset.waiting === '0') {
        window.__sync.emptyAt = performance.now();
        observer.disconnect();
      }
    }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['data-waiting'] });
  });
}

async function syncAfterOffline(browser, network) {
  const seeded = await seededServer({ members: 0, activities: CHECK_INS });
  const phone = await newPhone(browser, seeded.server.url);
  try {
    const page = await phone.newPage();
    await signInOnPhone(page, MEMBER);
    await waitForServiceWorker(page);
    // The first round after sign-in has pulled the member's records (and the 1,000 activities).
    await page.waitForFunction(() => JSON.parse(localStorage.getItem('gh1:meta') ?? '{}').last_synced_at, null, {
      timeout: TIMEOUT_MS,
    });
    const cdp = await phone.newCDPSession(page);
    await cdp.send('Network.enable');
    await emulate(cdp, { offline: true });
    await page.locator('[data-testid=sync-badge][data-state=offline]').waitFor();
    const signedIn = await storageUse(page);

    const makeMs = await checkInEverywhere(page, seeded.activities);
    assert.deepEqual(await localQueue(page), { outbox: CHECK_INS, pending: CHECK_INS });
    const queued = await storageUse(page);

    await watchSync(page);
    await emulate(cdp, network);
    await page.waitForFunction(() => window.__sync.emptyAt !== undefined, null, { timeout: TIMEOUT_MS });
    const emptyMs = await page.evaluate(() => window.__sync.emptyAt - window.__sync.onlineAt);
    // The round goes on to pull the check-ins back as the server's records, which replace the pending ones.
    const roundHandle = await page.waitForFunction(
      () =>
        !Object.keys(localStorage).some((key) => key.startsWith('gh1:pending:')) &&
        performance.now() - window.__sync.onlineAt,
      null,
      { timeout: TIMEOUT_MS, polling: 50 },
    );
    const roundMs = await roundHandle.jsonValue();

    // Nothing was refused, and the server holds each check-in once.
    assert.deepEqual(await localQueue(page), { outbox: 0, pending: 0 });
    const synced = await storageUse(page);
    assert.equal(synced['gh1:refused:*'], undefined, 'no check-in was refused');
    const onServer = await serverCheckIns(seeded.server.url, MEMBER);
    assert.equal(new Set(onServer.map((checkIn) => checkIn.activity_id)).size, CHECK_INS);
    assert.equal(onServer.length, CHECK_INS);

    return {
      times: { makeMs: Math.round(makeMs), emptyMs: Math.round(emptyMs), roundMs: Math.round(roundMs) },
      storage: {
        pendingPerCheckIn: bytesOf(queued, 'gh1:pending:*') / CHECK_INS,
        outboxPerCheckIn: bytesOf(queued, 'gh1:outbox:*') / CHECK_INS,
        syncedPerCheckIn: bytesOf(synced, 'gh1:rec:checkin:*') / CHECK_INS,
        me: bytesOf(signedIn, 'gh1:rec:me'),
        profile: bytesOf(signedIn, 'gh1:rec:profile'),
        signedIn: totalBytes(signedIn),
        queued: totalBytes(queued),
        synced: totalBytes(synced),
      },
    };
  } finally {
    await phone.close();
    await seeded.stop();
  }
}

const browser = await launchBrowser();
try {
  const networks = [];
  let storage;
  for (const network of NETWORKS) {
    const runs = [];
    for (let run = 1; run <= RUNS; run += 1) {
      const measured = await syncAfterOffline(browser, network);
      // Storage does not depend on the network or the run: the first one's.
      storage ??= measured.storage;
      runs.push(measured.times);
      console.error(`${network.name} ${run}/${RUNS}: ${JSON.stringify(measured.times)}`);
    }
    networks.push({ ...network, runs });
  }
  const result = { chromium: browser.version(), checkIns: CHECK_INS, member: MEMBER, networks, storage };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await browser.close();
}
