// The township's and the county's screens at the size of a real county: 2,200 members imported into one
// township through its roster import (never heard from, so every one of them is listed out of contact too), in
// Chromium with the CPU slowed down 4x as on a cheap phone, against the release build and a real server on
// loopback:
//
//   township screen    from the navigation to its list of all the members painted (its count shown), and from
//                      typing a member's name into its search to that one member painted;
//   township summary   from the navigation to its month-by-month chart painted (flow and members both fetched);
//   county screen      from the navigation to its totals painted;
//   on a phone network the township and county screens again, every request of the page answered a round trip
//                      (`ROUND_TRIP_MS`) later, as on a mobile network, where the screens' first requests
//                      leaving before the app mounts (src/online/early.rs) matters;
//   county totals      the server's answer to `GET /orgs/{county}/tree` (every township's and host
//                      organisation's figures), timed over loopback by this script.
//
// Started by `cargo xtask bench` (it sets GUIHAI_SERVER_BIN and GUIHAI_DIST and turns this script's JSON, printed
// on stdout, into docs/benchmarks.md). Progress goes to stderr.

import { api, launchBrowser, newPhone, startServer } from '../e2e/harness.mjs';
import { apiSession, importRoster, nameOf, rosterCsv, signInOnPhone, waitForFirstSync } from '../e2e/flows.mjs';
import { actUntilShown, markWhenShown } from './paint.mjs';

const MEMBERS = 2_200;
const RUNS = 5;
const TREE_REQUESTS = 200;
const CPU_SLOWDOWN = 4;
/** The round trip of Lighthouse's "slow 4G" (its throughput is left out: the requests here are small). */
const ROUND_TRIP_MS = 150;

let measured = 0;

/** Milliseconds from `act` to `selector` painted (in this page, or in the one `act` navigates to). */
async function painted(page, selector, act) {
  measured += 1;
  const key = `__shown${measured}`;
  await page.addInitScript(markWhenShown, [selector, key]);
  await page.evaluate(markWhenShown, [selector, key]);
  const started = await page.evaluate(() => performance.timeOrigin + performance.now());
  await actUntilShown(page, act, { key });
  const shown = await page.evaluate((key) => performance.timeOrigin + window[key], key);
  return Math.round(shown - started);
}

/**
 * A staff phone signed in and synced, its CPU slowed down, and its requests answered `roundTripMs` later (the
 * service worker's answers, the app's files, are the phone's own and come as they are).
 */
async function staffPhone(browser, server, code, roundTripMs = 0) {
  const phone = await newPhone(browser, server.url);
  const page = await phone.newPage();
  await signInOnPhone(page, code);
  await waitForFirstSync(page);
  const cdp = await phone.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
  if (roundTripMs > 0) {
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: roundTripMs,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
  }
  return { phone, page };
}

const server = await startServer();
const browser = await launchBrowser();
try {
  const admin = await apiSession(server.url, 'GH-T01');
  const names = Array.from({ length: MEMBERS }, (_, n) => nameOf(n));
  await importRoster(server.url, admin, rosterCsv(names));
  const township = admin.me.home_org.id;
  const countyAdmin = await apiSession(server.url, 'GH-C01');
  const countyId = countyAdmin.me.roles.find((role) => role.role === 'county_admin')?.org_id;
  if (!countyId) throw new Error(`no county in ${JSON.stringify(countyAdmin.me.roles)}`);
  const { body: listed } = await api(server.url, `/api/v1/orgs/${township}/members`, { token: admin.token });

  const result = {
    members: listed.length,
    cpuSlowdown: CPU_SLOWDOWN,
    roundTripMs: ROUND_TRIP_MS,
    township: [],
    search: [],
    summary: [],
    county: [],
    townshipFar: [],
    countyFar: [],
  };
  for (let run = 0; run < RUNS; run += 1) {
    const { phone, page } = await staffPhone(browser, server, 'GH-T01');
    result.township.push(
      await painted(page, '[data-testid=township-members-count]', () => page.goto(`/township/${township}`)),
    );
    const wanted = names[(run * 431) % MEMBERS];
    result.search.push(
      await painted(page, `[data-testid=township-member][data-name="${wanted}"]`, () =>
        page.getByTestId('township-members-search').fill(wanted),
      ),
    );
    result.summary.push(
      await painted(page, '[data-testid=flow-months]', () => page.goto(`/township/${township}/summary`)),
    );
    await phone.close();
    const countyPhone = await staffPhone(browser, server, 'GH-C01');
    result.county.push(
      await painted(countyPhone.page, '[data-testid=county-totals]', () => countyPhone.page.goto(`/county/${countyId}`)),
    );
    await countyPhone.phone.close();
    console.error(`run ${run + 1}/${RUNS}: ${JSON.stringify(result)}`);
  }
  for (let run = 0; run < RUNS; run += 1) {
    const { phone, page } = await staffPhone(browser, server, 'GH-T01', ROUND_TRIP_MS);
    result.townshipFar.push(
      await painted(page, '[data-testid=township-members-count]', () => page.goto(`/township/${township}`)),
    );
    await phone.close();
    const countyPhone = await staffPhone(browser, server, 'GH-C01', ROUND_TRIP_MS);
    result.countyFar.push(
      await painted(countyPhone.page, '[data-testid=county-totals]', () => countyPhone.page.goto(`/county/${countyId}`)),
    );
    await countyPhone.phone.close();
    console.error(`on a phone network, run ${run + 1}/${RUNS}: ${result.townshipFar}; ${result.countyFar}`);
  }

  result.treeMs = [];
  for (let n = 0; n < TREE_REQUESTS; n += 1) {
    const started = performance.now();
    const { status } = await api(server.url, `/api/v1/orgs/${countyId}/tree`, { token: countyAdmin.token });
    if (status !== 200) throw new Error(`the county's tree: ${status}`);
    result.treeMs.push(Math.round(performance.now() - started));
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await browser.close();
  await server.stop();
}
