// A real guihai-server on data seeded for a benchmark: the demo county plus many members (each signed in with a
// device of its own) and activities with signed check-in codes, written by the server's own library through
// `crates/server/examples/bench_seed.rs` (whose binary `cargo xtask bench` builds and names in GUIHAI_BENCH_SEED).

import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startServer } from '../e2e/harness.mjs';

const SEEDER = 'GUIHAI_BENCH_SEED';

/**
 * Seeds `members` members (`{ code, token, client_id }`, like GH-M01) and `activities` activities of GH-M01's
 * organisation running now (`{ id, title, payload }`), then starts the server on them. `stop()` also deletes
 * the data.
 */
export async function seededServer({ members, activities }) {
  const seeder = process.env[SEEDER];
  if (!seeder) throw new Error(`${SEEDER} is not set; run the benchmarks with \`cargo xtask bench\``);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'guihai-bench-'));
  const { stdout } = await promisify(execFile)(seeder, [dataDir, String(members), String(activities)], {
    maxBuffer: 256 << 20,
  });
  const seed = JSON.parse(stdout);
  const server = await startServer({ dataDir, args: ['--behind-proxy'] });
  return {
    ...seed,
    server,
    async stop() {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
