// Runs the frame set (frames.mjs) through decoders in one Chromium page: the app's own decoder worker as it
// ships (crates/decoder) and jsQR, the reference, on the same frames; for the end-to-end test and the benchmark.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { drawFrame, frameSet, HEIGHT, WIDTH } from './frames.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FRAMES_URL = '/__frames.bin';
const JSQR_URL = '/__jsqr.js';

/**
 * Decodes every frame of the set in `page` (on the app's origin, so that its worker loads) with the worker and
 * with jsQR. Returns one row a frame: `{ name, worker: {read, ms}, jsqr: {read, ms} }`, `read` true when the
 * decoder gave back exactly the code's text.
 */
export async function decodeFrameSet(page) {
  const set = frameSet();
  const frames = Buffer.concat(set.map((frame) => Buffer.from(drawFrame(frame.text, frame.options).buffer)));
  await page.route(`**${FRAMES_URL}`, (route) =>
    route.fulfill({ status: 200, contentType: 'application/octet-stream', body: frames }),
  );
  // Served as a file of the app's origin: the app's Content-Security-Policy runs no inline script.
  const jsqr = await readFile(path.join(ROOT, 'node_modules/jsqr/dist/jsQR.js'), 'utf8');
  await page.route(`**${JSQR_URL}`, (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body: jsqr }));
  await page.addScriptTag({ url: JSQR_URL });
  const results = await page.evaluate(
    async ({ url, width, height, texts }) => {
      const all = new Uint8ClampedArray(await (await fetch(url)).arrayBuffer());
      const size = width * height * 4;
      const worker = new Worker('/qr-decoder_loader.js');
      const replies = [];
      let wake = null;
      worker.onmessage = ({ data }) => {
        replies.push(data);
        if (wake) wake();
      };
      // A decoder that dies on a frame would leave the page waiting: it counts as a failure of the test.
      worker.onerror = (event) => {
        replies.push({ text: null, ms: 0, died: event.message });
        if (wake) wake();
      };
      const next = () =>
        new Promise((resolve) => {
          if (replies.length > 0) return resolve(replies.shift());
          wake = () => {
            wake = null;
            resolve(replies.shift());
          };
        });
      await next(); // ready
      const rows = [];
      for (let i = 0; i < texts.length; i += 1) {
        const frame = all.slice(i * size, (i + 1) * size);
        const started = performance.now();
        const read = globalThis.jsQR(frame, width, height);
        const jsqr = { read: read !== null && read.data === texts[i], ms: performance.now() - started };
        worker.postMessage({ width, height, pixels: frame.buffer }, [frame.buffer]);
        const reply = await next();
        if (reply.died) throw new Error(`the decoder worker died on frame ${i}: ${reply.died}`);
        rows.push({ jsqr, worker: { read: reply.text === texts[i], ms: reply.ms } });
      }
      worker.terminate();
      return rows;
    },
    { url: FRAMES_URL, width: WIDTH, height: HEIGHT, texts: set.map((frame) => frame.text) },
  );
  return results.map((row, i) => ({ name: set[i].name, ...row }));
}
