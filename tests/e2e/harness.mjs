// Helpers for the end-to-end tests (node:test + playwright-core): a real guihai-server on a
// loopback port with its own data folder, and Chromium dressed up as a phone.
//
// `cargo xtask test` sets GUIHAI_SERVER_BIN and GUIHAI_DIST. Write tests with `e2eTest`: it stops
// the servers and browsers a test started, checks that the servers' logs hold nothing personal, and
// prints the logs when the test fails.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { AsyncLocalStorage } from 'node:async_hooks';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const LISTENING = /^guihai listening on (http:\/\/\S+)/;
const START_TIMEOUT_MS = 30_000;
const LOG_TAIL_LINES = 60;
const PAGE_LOG_LINES = 60;

// What the running test started, so `e2eTest` can clean up after it.
const started = new AsyncLocalStorage();
// Everything still running, killed if node exits early so no server outlives the run.
const liveServers = new Set();
process.on('exit', () => {
  for (const server of liveServers) server.proc.kill('SIGKILL');
});

function requiredEnv(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set; run the end-to-end tests with \`cargo xtask test\``);
  return value;
}

/**
 * A node:test test that stops the servers and closes the browsers it started, and prints the
 * tail of each server's log when it fails.
 */
export function e2eTest(name, fn) {
  return test(name, async (t) => {
    // `folders`: the temporary folders made for it (data, profiles), removed once it passed. `said`: what its
    // pages and workers logged as errors or warnings, and their uncaught errors (a panic among them).
    const resources = { servers: [], browsers: [], violations: [], folders: [], said: [] };
    try {
      await started.run(resources, () => fn(t));
      // The server's Content-Security-Policy holds for every page and worker the test opened.
      assert.deepEqual(resources.violations, [], 'the app broke its own Content-Security-Policy');
      // Whatever the test did, the servers' logs hold nothing personal (docs/security.md).
      await Promise.all(resources.servers.map((server) => server.stop()));
      for (const server of resources.servers) {
        assert.deepEqual(await personalData(server.logFile), [], `personal data in ${server.logFile}`);
      }
      await Promise.all(resources.browsers.map((browser) => browser.close()));
      await Promise.all(resources.folders.map((folder) => rm(folder, { recursive: true, force: true })));
    } catch (error) {
      for (const server of resources.servers) await server.printLogTail();
      const said = resources.said.slice(-PAGE_LOG_LINES).join('\n');
      console.error(`--- what the pages said (errors, warnings; last ${PAGE_LOG_LINES}) ---\n${said}\n---`);
      throw error;
    } finally {
      await Promise.all(resources.browsers.map((browser) => browser.close()));
      await Promise.all(resources.servers.map((server) => server.stop()));
    }
  });
}

/**
 * Starts guihai-server with demo data. `port` 0 (the default) lets the system pick one; pass the
 * previous `port` and `dataDir` to bring a stopped server back as it was. `dist` serves another copy
 * of the built app than GUIHAI_DIST (a test that changes files must change a copy, never the shared one).
 * `args` are further arguments (`--behind-proxy`).
 */
export async function startServer({ dataDir, port = 0, dist = requiredEnv('GUIHAI_DIST'), args: extra = [] } = {}) {
  const bin = requiredEnv('GUIHAI_SERVER_BIN');
  dataDir ??= await temporaryFolder('guihai-e2e-');
  const logFile = path.join(dataDir, 'server.log');
  // What it prints for its operator (the listening line, the demo's sign-in sheet) apart from its log.
  const printed = createWriteStream(path.join(dataDir, 'server.out'), { flags: 'a' });
  const args = ['--addr', `127.0.0.1:${port}`, '--data-dir', dataDir, '--dist', dist, '--demo', ...extra];
  // The log goes straight to the file, not through this process: a test busy in its own work must never
  // hold up a server writing its log (a full pipe blocks the writer), or it would measure its own delay.
  const stderr = await open(logFile, 'a');
  // At debug level, so that the log check (`personalData`) covers more than a server logs by default. But for
  // sqlx's statements: their text is the migrations' and the code's own (with Chinese in comments), never a
  // bound value.
  const env = { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'debug,sqlx::query=info' };
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', stderr.fd], env });
  await stderr.close();
  const exited = new Promise((resolve) => proc.once('exit', (...codeAndSignal) => resolve(codeAndSignal)));

  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`guihai-server did not start within ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    createInterface({ input: proc.stdout }).on('line', (line) => {
      printed.write(line + '\n');
      const match = LISTENING.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    exited.then(([code, signal]) => {
      clearTimeout(timer);
      reject(new Error(`guihai-server exited before listening (code ${code}, signal ${signal})`));
    });
    proc.once('error', reject);
  }).catch(async (error) => {
    proc.kill('SIGKILL');
    await printTail(logFile);
    throw error;
  });

  const server = {
    url,
    port: Number(new URL(url).port),
    proc,
    dataDir,
    logFile,
    /** Kills the server at once, as a crash or a pulled plug would, and waits until it is gone. */
    async stop() {
      liveServers.delete(server);
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGKILL');
        await exited;
      }
    },
    printLogTail: () => printTail(logFile),
  };
  liveServers.add(server);
  started.getStore()?.servers.push(server);
  return server;
}

/**
 * What must never be in a server's log, by pattern: names and anything else in Chinese, phone numbers,
 * activation codes (the demo's and real ones), codes after `/q/`, session tokens (43 characters of base64url)
 * and the PIN the flows use.
 */
const PERSONAL = {
  chinese: /\p{Script=Han}/u,
  phone: /(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])/,
  'demo code': /\bGH-[MSTC]\d{2}\b/,
  'activation code': /\b[A-HJ-NP-Z2-9]{5}-[A-HJ-NP-Z2-9]{5}\b/,
  'scanned code': /\/q\/(?!…)[A-Za-z0-9_-]/,
  token: /(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/,
  pin: /\b246810\b/,
};

/** The lines of a server log that hold personal data, each with what it holds. */
export async function personalData(logFile) {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  return text.split('\n').flatMap((line) => {
    const kinds = Object.entries(PERSONAL).filter(([, pattern]) => pattern.test(line));
    return kinds.length ? [`${kinds.map(([kind]) => kind).join(', ')}: ${line}`] : [];
  });
}

/** A new temporary folder, removed when the running test passes (kept for a look when it fails). */
export async function temporaryFolder(prefix) {
  const folder = await mkdtemp(path.join(tmpdir(), prefix));
  started.getStore()?.folders.push(folder);
  return folder;
}

async function printTail(logFile) {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  const tail = text.trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
  console.error(`--- last lines of ${logFile} ---\n${tail}\n---`);
}

/** Headless Chromium from the system (Debian's package), as root in a container. */
export async function launchBrowser(extraArgs = []) {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [...CHROMIUM_FLAGS, ...extraArgs],
  });
  started.getStore()?.browsers.push(browser);
  return browser;
}

/** Flags every Chromium here starts with: the machine's network is closed but for loopback. */
const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * A phone whose browser profile is on disk in `profileDir` (a new one when not given), as a real phone's
 * browser is: a test can kill it outright (`kill`: SIGKILL to every one of its processes, as Android kills a
 * browser in the background) and start it again on the same profile (`diskPhone` with the same `profileDir`).
 * Phone-sized, in Chinese, with `baseURL`. `context` is its one browser context; `close` ends it gently.
 */
export async function diskPhone({ profileDir, baseURL } = {}) {
  profileDir ??= await temporaryFolder('guihai-profile-');
  const context = watchPolicy(
    await chromium.launchPersistentContext(profileDir, {
      executablePath: '/usr/bin/chromium',
      args: CHROMIUM_FLAGS,
      ...phoneOptions(baseURL),
    }),
  );
  // Playwright starts the browser as the leader of a process group of its own: found by its profile.
  const pid = await browserProcess(profileDir);
  const kill = async () => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      return; // already gone
    }
    while (await readFile(`/proc/${pid}/stat`, 'utf8').then((stat) => !stat.includes(') Z '), () => false)) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const phone = {
    profileDir,
    context,
    newPage: () => context.newPage(),
    kill,
    async close() {
      await context.close().catch(() => {});
      await kill();
    },
  };
  started.getStore()?.browsers.push(phone);
  return phone;
}

/** The pid of this process's child Chromium that runs on `profileDir`. */
async function browserProcess(profileDir) {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (parent !== process.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(`--user-data-dir=${profileDir}`)) return Number(entry);
  }
  throw new Error(`no Chromium process runs on ${profileDir}`);
}

/** The screen of a common phone, in CSS pixels and device pixels per CSS pixel. */
export const PHONE_SCREEN = { width: 390, height: 844, deviceScaleFactor: 2 };

/** What makes a browser context a phone: the screen of a common phone, touch, Chinese. */
function phoneOptions(baseURL) {
  return {
    viewport: { width: PHONE_SCREEN.width, height: PHONE_SCREEN.height },
    deviceScaleFactor: PHONE_SCREEN.deviceScaleFactor,
    isMobile: true,
    hasTouch: true,
    locale: 'zh-CN',
    serviceWorkers: 'allow',
    baseURL,
  };
}

/** A fresh browser profile the size of a common phone, in Chinese. */
export async function newPhone(browser, baseURL, extra = {}) {
  return watchPolicy(await browser.newContext({ ...phoneOptions(baseURL), ...extra }));
}

/** The reports of the Content-Security-Policy being broken so far in this test (a test that breaks it on purpose
 * takes its own out). */
export function policyViolations() {
  return started.getStore().violations;
}

/**
 * Notes each report of the Content-Security-Policy being broken, in `context`'s pages and their workers (Chromium
 * reports them on the console), for `e2eTest` to fail on; and what they logged as errors or warnings and their
 * uncaught errors, for `e2eTest` to print when the test fails.
 */
function watchPolicy(context) {
  const resources = started.getStore();
  if (!resources) return context;
  const note = (message) => {
    if (/Content Security Policy/i.test(message.text())) resources.violations.push(message.text());
    if (message.type() === 'error' || message.type() === 'warning') {
      resources.said.push(`${new Date().toISOString()} ${message.type()}: ${message.text()}`);
    }
  };
  const watch = (page) => {
    page.on('worker', (worker) => worker.on('console', note));
    page.on('pageerror', (error) => resources.said.push(`${new Date().toISOString()} uncaught: ${error.stack ?? error}`));
  };
  context.on('console', note);
  context.on('page', watch);
  // A persistent context opens with a page of its own.
  context.pages().forEach(watch);
  return context;
}

/**
 * Waits until the service worker is active and controls the page (reloading once if it is not
 * yet in control), so the shell is cached before a test takes the network away.
 */
export async function waitForServiceWorker(page, { timeout = 30_000 } = {}) {
  await page.evaluate(async (ms) => {
    const late = new Promise((_, reject) =>
      setTimeout(() => reject(new Error(`no active service worker after ${ms} ms (does the app register /sw.js?)`)), ms),
    );
    await Promise.race([navigator.serviceWorker.ready, late]);
  }, timeout);
  const controlled = () => navigator.serviceWorker.controller !== null;
  try {
    await page.waitForFunction(controlled, null, { timeout: 5_000 });
  } catch {
    const lastSynced = () => Number(document.querySelector('[data-testid=sync-badge]')?.dataset.lastSynced ?? 0);
    const before = await page.evaluate(lastSynced);
    await page.reload();
    await page.waitForFunction(controlled, null, { timeout });
    // A signed-in phone's reloaded app starts a sync round of its own. A test that goes offline and writes next
    // must not race it (CI once had a round of the page before going offline still running), and
    // `waitForFirstSync` sees the round before the reload and returns at once. A few seconds are given, and
    // not required: a phone whose session ended never completes a round.
    if (before > 0) {
      const synced = `Number(document.querySelector('[data-testid=sync-badge]')?.dataset.lastSynced ?? 0) > ${before}`;
      await page.waitForFunction(synced, null, { timeout: 10_000 }).catch(() => {});
    }
  }
}

/**
 * Waits until the service worker keeps the staff app on this phone (a staff member's home screen asks it to),
 * so that the staff screens open with no network.
 */
export async function waitForStaffApp(page, { timeout = 30_000 } = {}) {
  const kept = () =>
    page.evaluate(async () => {
      for (const name of await caches.keys()) {
        if (await (await caches.open(name)).match('/staff/index.html')) return true;
      }
      return false;
    });
  // Asked again and again from here: the predicate is asynchronous, which waitForFunction does not wait for.
  for (const started = Date.now(); !(await kept()); ) {
    if (Date.now() - started > timeout) throw new Error(`the staff app was not kept within ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Saves a screenshot as docs/screenshots/<name>.png and returns its path. */
export async function screenshot(page, name) {
  const folder = path.join(REPO_ROOT, 'docs', 'screenshots');
  await mkdir(folder, { recursive: true });
  const file = path.join(folder, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/**
 * Calls the server's API from the test itself. Returns `{ status, body }`, with `body` parsed
 * when the answer is JSON. A test that sets up hundreds of records goes faster than the server's rate limits
 * allow one session: a 429 `rate_limited` is waited out (its `Retry-After`) and sent again, as a polite client
 * does; any other answer is the test's.
 */
export async function api(url, apiPath, { method = 'GET', token, body, headers = {} } = {}) {
  let response;
  for (let attempt = 0; ; attempt += 1) {
    response = await fetch(new URL(apiPath, url), {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const limited = response.status === 429 && response.headers.get('retry-after') !== null;
    if (!limited || attempt === 20) break;
    const body429 = await response.clone().json();
    if (body429.error !== 'rate_limited') break;
    await new Promise((resolve) => setTimeout(resolve, Number(response.headers.get('retry-after')) * 1000));
  }
  const isJson = (response.headers.get('content-type') ?? '').includes('json');
  return { status: response.status, body: isJson ? await response.json() : await response.text() };
}
