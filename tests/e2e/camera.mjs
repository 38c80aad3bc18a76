// A fake rear camera for the end-to-end tests: Chromium plays a Y4M file as the camera, and this paints a QR
// code into one, so the in-app scanner reads a real code through getUserMedia, the canvas and the decoder.

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import QRCode from 'qrcode';
import { launchBrowser, temporaryFolder } from './harness.mjs';

const WIDTH = 640;
const HEIGHT = 480;
// Chromium loops the file; a few identical frames are enough.
const FRAMES = 5;
// Video levels (BT.601): white paper and black ink as a camera's Y plane holds them; no colour.
const WHITE = 235;
const BLACK = 16;
const NO_COLOUR = 128;
const QUIET_ZONE_MODULES = 4;
const MAX_MODULE_PX = 8;

/**
 * Writes `file`: a 640x480 YUV4MPEG2 (C420) video of `text` as a QR code (error correction M), black on white,
 * centred, with a quiet zone of 4 modules and modules of up to 8 pixels.
 */
export async function writeQrVideo(text, file) {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const module = Math.min(MAX_MODULE_PX, Math.floor(HEIGHT / (modules.size + 2 * QUIET_ZONE_MODULES)));
  if (module < 2) throw new Error(`a code of ${modules.size} modules does not fit a ${WIDTH}x${HEIGHT} frame`);
  const luma = Buffer.alloc(WIDTH * HEIGHT, WHITE);
  const left = Math.floor((WIDTH - modules.size * module) / 2);
  const top = Math.floor((HEIGHT - modules.size * module) / 2);
  for (let row = 0; row < modules.size; row += 1) {
    for (let col = 0; col < modules.size; col += 1) {
      if (!modules.get(row, col)) continue;
      for (let y = 0; y < module; y += 1) {
        const at = (top + row * module + y) * WIDTH + left + col * module;
        luma.fill(BLACK, at, at + module);
      }
    }
  }
  const chroma = Buffer.alloc((WIDTH / 2) * (HEIGHT / 2) * 2, NO_COLOUR);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), luma, chroma]);
  const header = Buffer.from(`YUV4MPEG2 W${WIDTH} H${HEIGHT} F10:1 Ip A1:1 C420\n`);
  await writeFile(file, Buffer.concat([header, ...Array(FRAMES).fill(frame)]));
  return file;
}

/** Chromium whose camera shows `text` as a QR code, and which grants the camera without asking. */
export async function launchCameraBrowser(text) {
  const folder = await temporaryFolder('guihai-camera-');
  const video = await writeQrVideo(text, path.join(folder, 'camera.y4m'));
  return launchBrowser([
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
    `--use-file-for-fake-video-capture=${video}`,
  ]);
}
