// A set of synthetic camera frames of QR codes, to measure and guard how well a decoder reads what a phone's
// camera sees at a door (issue #13): rotation up to 45°, perspective, a code from a quarter to most of the frame,
// uneven light and glare, blur, noise, grey, coloured and busy backgrounds, an inverted code, and a code on a phone
// screen photographed by another phone. Deterministic: the same frames every run, in Node or in the browser.

import QRCode from 'qrcode';

export const WIDTH = 640;
export const HEIGHT = 480;
const QUIET = 4;

/** A check-in link of 266 characters, as the issue measured, and a rotating door code's (about 400). */
export const LINK = `https://guihai.example.cn/q/${'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_'.repeat(7)}`.slice(0, 266);
export const DOOR_LINK = `https://guihai.example.cn/q/${'BAQCAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g'.repeat(9)}`.slice(0, 400);

/** Seeded pseudo-random numbers in [0, 1) (mulberry32). */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Solves the 8 unknowns of the homography taking `from` (4 points) onto `to`. */
function homography(from, to) {
  const rows = [];
  for (let i = 0; i < 4; i += 1) {
    const [x, y] = from[i];
    const [u, v] = to[i];
    rows.push([x, y, 1, 0, 0, 0, -u * x, -u * y, u]);
    rows.push([0, 0, 0, x, y, 1, -v * x, -v * y, v]);
  }
  for (let col = 0; col < 8; col += 1) {
    let pivot = col;
    for (let r = col + 1; r < 8; r += 1) if (Math.abs(rows[r][col]) > Math.abs(rows[pivot][col])) pivot = r;
    [rows[col], rows[pivot]] = [rows[pivot], rows[col]];
    for (let r = 0; r < 8; r += 1) {
      if (r === col) continue;
      const f = rows[r][col] / rows[col][col];
      for (let c = col; c < 9; c += 1) rows[r][c] -= f * rows[col][c];
    }
  }
  const h = rows.map((row, i) => row[8] / row[i]);
  return (x, y) => {
    const w = h[6] * x + h[7] * y + 1;
    return [(h[0] * x + h[1] * y + h[2]) / w, (h[3] * x + h[4] * y + h[5]) / w];
  };
}

/** Where the code's four corners land in the frame: scaled, rotated in its plane, tilted away, moved. */
function corners({ scale, rotation, tilt, shiftX = 0, shiftY = 0 }) {
  const side = scale * Math.min(WIDTH, HEIGHT);
  const focal = 700;
  const distance = focal;
  return [
    [-0.5, -0.5],
    [0.5, -0.5],
    [0.5, 0.5],
    [-0.5, 0.5],
  ].map(([x, y]) => {
    const [rx, ry] = [x * Math.cos(rotation) - y * Math.sin(rotation), x * Math.sin(rotation) + y * Math.cos(rotation)];
    // Tilted about the horizontal axis: the top edge leans away from the camera.
    const [X, Y, Z] = [rx * side, ry * side * Math.cos(tilt), distance + ry * side * Math.sin(tilt)];
    return [WIDTH / 2 + shiftX + (focal * X) / Z, HEIGHT / 2 + shiftY + (focal * Y) / Z];
  });
}

const BACKGROUNDS = {
  white: () => [235, 235, 235],
  grey: () => [150, 150, 150],
  // A red poster around the printed code.
  red: () => [200, 16, 46],
  // A busy scene: stripes and blobs of colour.
  busy: (x, y) => [
    128 + 100 * Math.sin(x / 17) * Math.cos(y / 23),
    110 + 90 * Math.sin((x + y) / 31),
    90 + 80 * Math.cos(x / 11 - y / 29),
  ],
};

function boxBlur(plane, radius) {
  const out = new Float32Array(plane.length);
  const pass = (src, dst, horizontal) => {
    const [outer, inner] = horizontal ? [HEIGHT, WIDTH] : [WIDTH, HEIGHT];
    for (let o = 0; o < outer; o += 1) {
      for (let i = 0; i < inner; i += 1) {
        let sum = 0;
        let n = 0;
        for (let k = -radius; k <= radius; k += 1) {
          const j = Math.min(inner - 1, Math.max(0, i + k));
          sum += src[horizontal ? o * WIDTH + j : j * WIDTH + o];
          n += 1;
        }
        dst[horizontal ? o * WIDTH + i : i * WIDTH + o] = sum / n;
      }
    }
  };
  const tmp = new Float32Array(plane.length);
  pass(plane, tmp, true);
  pass(tmp, out, false);
  return out;
}

/**
 * Draws one frame: RGBA bytes, WIDTH x HEIGHT. `screen` draws the code as a lit phone screen (dim black,
 * subpixel stripes, moiré) photographed by another phone.
 */
export function drawFrame(text, options) {
  const o = {
    scale: 0.5,
    rotation: 0,
    tilt: 0,
    background: 'white',
    light: 'even',
    blur: 0,
    noise: 0,
    inverted: false,
    screen: false,
    seed: 1,
    ...options,
  };
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const size = modules.size + 2 * QUIET;
  const toCode = homography(corners(o), [
    [0, 0],
    [size, 0],
    [size, size],
    [0, size],
  ]);
  const [ink, paper] = o.screen ? [45, 215] : [25, 240];
  const background = BACKGROUNDS[o.background];
  const planes = [new Float32Array(WIDTH * HEIGHT), new Float32Array(WIDTH * HEIGHT), new Float32Array(WIDTH * HEIGHT)];
  const SUB = 3;
  for (let y = 0; y < HEIGHT; y += 1) {
    for (let x = 0; x < WIDTH; x += 1) {
      const sum = [0, 0, 0];
      for (let sy = 0; sy < SUB; sy += 1) {
        for (let sx = 0; sx < SUB; sx += 1) {
          const [u, v] = toCode(x + (sx + 0.5) / SUB, y + (sy + 0.5) / SUB);
          let colour;
          if (u < 0 || v < 0 || u >= size || v >= size) {
            colour = background(x, y);
          } else {
            const row = Math.floor(v) - QUIET;
            const col = Math.floor(u) - QUIET;
            const inCode = row >= 0 && col >= 0 && row < modules.size && col < modules.size;
            let dark = inCode && modules.get(row, col);
            if (o.inverted) dark = !dark;
            const level = dark ? ink : paper;
            colour = [level, level, level];
            if (o.screen) {
              // The screen's pixel grid, a little finer than the camera's: stripes of red, green and blue and
              // a moiré where the two grids beat.
              const stripe = Math.floor(u * 9) % 3;
              const moire = 0.85 + 0.15 * Math.sin((u * 9 + v * 9) * 0.9 + x * 0.31);
              colour = colour.map((c, i) => c * (i === stripe ? 1 : 0.72) * moire);
            }
          }
          for (let i = 0; i < 3; i += 1) sum[i] += colour[i];
        }
      }
      for (let i = 0; i < 3; i += 1) planes[i][y * WIDTH + x] = sum[i] / (SUB * SUB);
    }
  }
  const lit = (x, y) => {
    switch (o.light) {
      case 'gradient':
        return 1.05 - 0.65 * ((x / WIDTH + y / HEIGHT) / 2);
      case 'glare': {
        const d = Math.hypot(x - WIDTH * 0.58, y - HEIGHT * 0.42);
        return 0.8 + 0.9 * Math.exp(-(d * d) / (2 * 70 * 70));
      }
      case 'dim':
        return 0.35;
      default:
        return 1;
    }
  };
  const blurred = o.blur > 0 ? planes.map((plane) => boxBlur(boxBlur(plane, o.blur), o.blur)) : planes;
  const next = random(o.seed);
  const rgba = new Uint8ClampedArray(WIDTH * HEIGHT * 4);
  for (let p = 0; p < WIDTH * HEIGHT; p += 1) {
    const light = lit(p % WIDTH, Math.floor(p / WIDTH));
    // Roughly Gaussian noise (the sum of three uniforms), the same on all channels as a camera's luma noise.
    const grain = o.noise * ((next() + next() + next()) / 1.5 - 1) * 1.7;
    for (let i = 0; i < 3; i += 1) rgba[p * 4 + i] = blurred[i][p] * light + grain;
    rgba[p * 4 + 3] = 255;
  }
  return rgba;
}

/** The frame set: each one's name, the text its code holds, and how it is drawn. */
export function frameSet() {
  const set = [];
  const add = (name, options, text = LINK) => set.push({ name, text, options });
  for (const background of ['white', 'grey']) {
    for (const rotation of [0, 0.05, 0.12, 0.3, 0.5, 0.785]) add(`rotation ${rotation} on ${background}`, { rotation, background });
  }
  for (const scale of [0.25, 0.35, 0.7, 0.92]) add(`scale ${scale}`, { scale, rotation: 0.05 });
  for (const tilt of [15, 30, 40]) {
    add(`tilt ${tilt}°`, { tilt: (tilt * Math.PI) / 180 });
    add(`tilt ${tilt}° rotated 0.3`, { tilt: (tilt * Math.PI) / 180, rotation: 0.3 });
  }
  for (const light of ['gradient', 'glare', 'dim']) {
    add(`${light} light`, { light });
    add(`${light} light rotated 0.3`, { light, rotation: 0.3 });
  }
  for (const blur of [1, 2]) {
    add(`blur ${blur}`, { blur });
    add(`blur ${blur} rotated 0.12`, { blur, rotation: 0.12 });
  }
  for (const noise of [10, 25]) {
    add(`noise ${noise}`, { noise, seed: noise });
    add(`noise ${noise} rotated 0.3`, { noise, rotation: 0.3, seed: noise + 1 });
  }
  for (const background of ['red', 'busy']) {
    add(`${background} background`, { background });
    add(`${background} background rotated 0.3`, { background, rotation: 0.3 });
  }
  add('inverted', { inverted: true, background: 'grey' });
  add('inverted rotated 0.3', { inverted: true, rotation: 0.3, background: 'grey' });
  add('phone screen', { screen: true, scale: 0.6, background: 'grey', blur: 1 });
  add('phone screen rotated 0.12', { screen: true, scale: 0.6, rotation: 0.12, background: 'grey', blur: 1 });
  add('phone screen tilted 20°', { screen: true, scale: 0.6, tilt: 0.35, background: 'busy', blur: 1, noise: 8 });
  add('door code', {}, DOOR_LINK);
  add('door code rotated 0.3', { rotation: 0.3 }, DOOR_LINK);
  add('door code most of the frame', { scale: 0.9, rotation: 0.05 }, DOOR_LINK);
  add('door code on a screen tilted 20°', { screen: true, scale: 0.8, tilt: 0.35, blur: 1 }, DOOR_LINK);
  add('everything at once', { rotation: 0.3, tilt: 0.44, light: 'gradient', noise: 10, blur: 1, background: 'busy', seed: 7 });
  add('everything at once, off centre', {
    rotation: 0.6,
    tilt: 0.3,
    light: 'glare',
    noise: 12,
    blur: 1,
    background: 'red',
    shiftX: 60,
    shiftY: -30,
    scale: 0.45,
    seed: 9,
  });
  return set;
}
