// The in-app scanner's camera and frame pump. Kept in JS because it is media streams, a canvas and worker
// messages with transferred buffers, which would need many web-sys bindings; decoding is the browser's own
// `BarcodeDetector` where it has one, else (and for what it misses) Rust in the qr-decoder worker
// (crates/decoder), and what a decoded text means is decided by the Rust page (src/pages/scan.rs).

// Built by Trunk from crates/decoder (index.html): the shim loads the worker's wasm.
const WORKER_URL = '/qr-decoder_loader.js';
// Frames are scaled down to fit this: plenty for a code held in front of the phone, and cheap to decode.
const MAX_WIDTH = 640;
const MAX_HEIGHT = 480;
// About 8 frames a second, at most one in the worker at a time: a slow phone skips frames instead of queueing.
const FRAME_INTERVAL_MS = 125;
// How long after a code is found the camera is let go: once the next screen is painted.
const RELEASE_AFTER_MS = 300;
// Decode times kept for the benchmark (tests/bench/decode.mjs), newest last.
const TIMINGS_KEPT = 30;

/**
 * What the tests and the benchmark read: frames decoded so far, the last decode times in ms, when
 * (`performance.now()`) the last text was decoded, and by what (`native` or `worker`).
 */
const stats = (globalThis.__guihaiScan = { frames: 0, decodeMs: [], decodedAt: 0 });

// Errors of getUserMedia that mean "there is no camera to use", as opposed to "the member said no".
const NO_CAMERA = new Set(['NotFoundError', 'OverconstrainedError', 'NotReadableError', 'AbortError']);

/** The browser's own QR detector (`BarcodeDetector`), where it has one that reads QR codes; `null` elsewhere. */
async function nativeDetector() {
  if (!('BarcodeDetector' in globalThis)) return null;
  try {
    const formats = await globalThis.BarcodeDetector.getSupportedFormats();
    return formats.includes('qr_code') ? new globalThis.BarcodeDetector({ formats: ['qr_code'] }) : null;
  } catch {
    return null;
  }
}

export class Scanner {
  /**
   * Opens the rear camera into `video` and decodes its frames. `onEvent(kind, detail)` hears: `ready` (detail
   * `torch` when the camera has one), `denied`, `no-camera`, and `text` with each decoded text.
   */
  constructor(video, onEvent) {
    this.video = video;
    this.onEvent = onEvent;
    this.stopped = false;
    this.stream = null;
    this.worker = null;
    this.timer = 0;
    this.start();
  }

  emit(kind, detail = '') {
    // After stop() the Rust side has let go of its callback.
    if (!this.stopped) this.onEvent(kind, detail);
  }

  async start() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return this.emit('no-camera');
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
    } catch (error) {
      return this.emit(NO_CAMERA.has(error.name) ? 'no-camera' : 'denied');
    }
    if (this.stopped) return stream.getTracks().forEach((track) => track.stop());
    this.stream = stream;
    this.video.srcObject = stream;
    this.video.play().catch(() => {});
    const track = stream.getVideoTracks()[0];
    const capabilities = track && track.getCapabilities ? track.getCapabilities() : {};
    this.emit('ready', capabilities.torch ? 'torch' : '');
    this.detector = await nativeDetector();
    this.startWorker();
  }

  startWorker() {
    const canvas = document.createElement('canvas');
    const context = canvas.getContext('2d', { willReadFrequently: true });
    let busy = true; // until the worker says it is ready
    const decoded = (text, ms, by) => {
      stats.frames += 1;
      stats.decodeMs = [...stats.decodeMs, ms].slice(-TIMINGS_KEPT);
      stats.by = by;
      if (text) {
        stats.decodedAt = performance.now();
        this.emit('text', text);
      }
    };
    // A frame that makes the decoder fail (a trap in its wasm) must not end scanning: a worker that dies is
    // replaced, and the pump goes on with the next frame once the new one is ready.
    const spawn = () => {
      busy = true;
      this.worker = new Worker(WORKER_URL);
      this.worker.onmessage = ({ data }) => {
        busy = false;
        if (data.ready) return;
        decoded(data.text, data.ms, 'worker');
      };
      this.worker.onerror = (event) => {
        event.preventDefault();
        stats.restarts = (stats.restarts ?? 0) + 1;
        this.worker.terminate();
        if (!this.stopped) spawn();
      };
    };
    spawn();
    const toWorker = () => {
      const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data.buffer;
      this.worker.postMessage({ width: canvas.width, height: canvas.height, pixels }, [pixels]);
    };
    const pump = () => {
      if (this.stopped) return;
      const { videoWidth: width, videoHeight: height } = this.video;
      if (!busy && width > 0 && height > 0) {
        const scale = Math.min(1, MAX_WIDTH / width, MAX_HEIGHT / height);
        canvas.width = Math.round(width * scale);
        canvas.height = Math.round(height * scale);
        context.drawImage(this.video, 0, 0, canvas.width, canvas.height);
        busy = true;
        if (this.detector) {
          // The phone's own detector first (Chrome on Android has one); a frame it cannot read goes to ours.
          const started = performance.now();
          this.detector.detect(canvas).then(
            (codes) => {
              if (this.stopped) return;
              if (codes.length > 0) {
                busy = false;
                return decoded(codes[0].rawValue, performance.now() - started, 'native');
              }
              toWorker();
            },
            () => toWorker(),
          );
        } else {
          toWorker();
        }
      }
      this.timer = setTimeout(pump, FRAME_INTERVAL_MS);
    };
    pump();
  }

  /** Turns the torch on or off; false when the camera refused. */
  async setTorch(on) {
    const track = this.stream && this.stream.getVideoTracks()[0];
    if (!track) return false;
    try {
      await track.applyConstraints({ advanced: [{ torch: on }] });
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Nothing is heard after this. The camera is let go (its light goes off) and the worker ended a moment later:
   * on a slow phone that takes tens of milliseconds, which the screen a found code leads to must not wait for.
   */
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    setTimeout(() => {
      if (this.worker) this.worker.terminate();
      if (this.stream) this.stream.getTracks().forEach((track) => track.stop());
      this.video.srcObject = null;
    }, RELEASE_AFTER_MS);
  }
}

// The secretary's door code is drawn by the same worker (crates/decoder): the encoder stays out of the first
// load, and works offline once the worker is cached. One worker for the page's life; answers come in order.
let drawer = null;

/** Draws `text` as a QR code: resolves to `{path, modules}`, or `{path: null}` when it cannot be drawn. */
export async function drawQr(text) {
  if (!drawer) {
    const worker = new Worker(WORKER_URL);
    const waiting = [];
    // Messages sent before the worker's wasm runs would be lost: the first draw waits for its `ready`.
    const ready = new Promise((started) => {
      worker.onmessage = ({ data }) => {
        if (data.ready) return started();
        const resolve = waiting.shift();
        if (resolve) resolve(data);
      };
      worker.onerror = () => {
        drawer.failed = true;
        started();
        waiting.splice(0).forEach((resolve) => resolve({ path: null }));
      };
    });
    drawer = { worker, waiting, ready, failed: false };
  }
  await drawer.ready;
  if (drawer.failed) return { path: null };
  return new Promise((resolve) => {
    drawer.waiting.push(resolve);
    drawer.worker.postMessage({ draw: text });
  });
}
