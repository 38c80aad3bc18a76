// The peer in the 10,000-check-in comparison: PouchDB 9 (npm `pouchdb`, its browser build and default IndexedDB
// adapter) in the same Chromium, writing the same 10,000 check-ins one at a time as an app would on each scan
// (`db.put`), then replicating them to a CouchDB-compatible server on loopback (`peer-server.mjs`), once for
// each batch size tried, each to a fresh database; the best is the peer's figure. Called by `sync.mjs`.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { newPhone } from '../e2e/harness.mjs';
import { bytesPer, median, usage } from './measure.mjs';

/** Batch sizes tried for the replication; PouchDB's default is 100. */
const BATCH_SIZES = [100, 500, 1000, 2500];
/** Check-ins whose times make "the 1st" and "the 10,000th", as for the app. */
const WINDOW = 20;

async function startPeerServer() {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'peer-server.mjs');
  const proc = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout }).on('line', (line) => {
      const match = /^listening (\d+)/.exec(line);
      if (match) resolve(Number(match[1]));
    });
    proc.once('exit', (code) => reject(new Error(`the peer server exited (code ${code})`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => proc.kill('SIGKILL') };
}

/**
 * Writes the check-ins (`{ id, payload }` of each activity) into PouchDB and replicates them: the times of the
 * writes at both ends, the bytes per check-in, and the time to replicate with each batch size.
 */
export async function comparePeer(browser, activities) {
  const server = await startPeerServer();
  const phone = await newPhone(browser, server.url);
  try {
    const page = await phone.newPage();
    await page.goto('/peer.html');
    const before = await usage(page);
    const docs = activities.map(({ id, payload }, n) => ({
      _id: randomUUID(),
      type: 'check_in',
      activity_id: id,
      scanned_at: Date.now() + n,
      code: payload,
    }));
    const times = await page.evaluate(async (docs) => {
      const db = new PouchDB('checkins');
      const times = [];
      for (const doc of docs) {
        const started = performance.now();
        await db.put(doc);
        times.push(performance.now() - started);
      }
      return times;
    }, docs);
    const waiting = await usage(page);
    const trials = [];
    for (const batchSize of BATCH_SIZES) {
      const ms = await page.evaluate(async (batchSize) => {
        const db = new PouchDB('checkins');
        const started = performance.now();
        const result = await PouchDB.replicate(db, `${location.origin}/db/remote-${batchSize}`, {
          batch_size: batchSize,
          batches_limit: 10,
        });
        if (!result.ok || result.docs_written !== result.docs_read) throw new Error(JSON.stringify(result));
        return performance.now() - started;
      }, batchSize);
      const { body } = await fetch(`${server.url}/db/remote-${batchSize}`).then(async (r) => ({ body: await r.json() }));
      assert.equal(body.doc_count, docs.length, `the server holds the ${docs.length} check-ins`);
      trials.push({ batchSize, ms: Math.round(ms) });
      console.error(`peer: batch ${batchSize}: ${Math.round(ms)} ms`);
    }
    const synced = await usage(page);
    return {
      checkIns: docs.length,
      firstMs: median(times.slice(0, WINDOW)),
      lastMs: median(times.slice(-WINDOW)),
      writeMs: Math.round(times.reduce((sum, ms) => sum + ms, 0)),
      bytesWaiting: bytesPer(before, waiting, docs.length),
      bytesSynced: bytesPer(before, synced, docs.length),
      trials,
    };
  } finally {
    await phone.close();
    server.stop();
  }
}
