// Writes the frame set (frames.mjs) to a folder for native decoders (crates/decoder/examples/candidates.rs):
// `frames.rgba`, every frame's RGBA bytes one after another, and `frames.tsv`, each frame's name and text.
// Usage: node tests/frames/dump.mjs <folder>

import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { drawFrame, frameSet } from './frames.mjs';

const folder = process.argv[2];
if (!folder) throw new Error('usage: node tests/frames/dump.mjs <folder>');
await mkdir(folder, { recursive: true });
const set = frameSet();
await writeFile(
  path.join(folder, 'frames.rgba'),
  Buffer.concat(set.map((frame) => Buffer.from(drawFrame(frame.text, frame.options).buffer))),
);
await writeFile(path.join(folder, 'frames.tsv'), set.map((frame) => `${frame.name}\t${frame.text}\n`).join(''));
