#!/usr/bin/env node
// Draws the tray icons (app/assets/tray-<state>.png at 1x and @2x, plus macOS template images) with no
// dependency: a shield-like disc per state, anti-aliased, written as RGBA PNGs. Run it after changing a
// shape or colour; the PNGs are committed.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const out = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'app', 'assets');
const STATES = {
  protected: { color: [31, 136, 61], mark: 'check' },
  degraded: { color: [191, 135, 0], mark: 'bang' },
  paused: { color: [87, 96, 106], mark: 'pause' },
  off: { color: [140, 149, 159], mark: 'ring' },
};

function png(size, pixel) {
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    rows[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x++) rows.set(pixel(x, y), y * (size * 4 + 1) + 1 + x * 4);
  }
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

/** Coverage (0–1) of the shape at a pixel, sampled 4×4 for anti-aliasing. */
function coverage(inside, x, y) {
  let hits = 0;
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) if (inside(x + (i + 0.5) / 4, y + (j + 0.5) / 4)) hits++;
  return hits / 16;
}

function draw(size, state, template) {
  const { color, mark } = STATES[state];
  const c = size / 2;
  const r = size * 0.44;
  const disc = (x, y) => (x - c) ** 2 + (y - c) ** 2 <= r * r;
  const ring = (x, y) => disc(x, y) && (x - c) ** 2 + (y - c) ** 2 >= (r * 0.72) ** 2;
  const u = size / 16;
  const marks = {
    check: (x, y) => {
      const d1 = Math.abs((y - 8.6 * u) - (x - 5 * u)) / Math.SQRT2;
      const d2 = Math.abs((y - 10.6 * u) + (x - 7 * u)) / Math.SQRT2;
      return (x >= 4.6 * u && x <= 7.2 * u && d1 < 0.9 * u) || (x >= 6.8 * u && x <= 11.6 * u && d2 < 0.9 * u);
    },
    bang: (x, y) => (Math.abs(x - c) < 0.95 * u && y > 4 * u && y < 9.4 * u) || (x - c) ** 2 + (y - 11.4 * u) ** 2 < (1.05 * u) ** 2,
    pause: (x, y) => y > 5 * u && y < 11 * u && (Math.abs(x - 6.4 * u) < 0.9 * u || Math.abs(x - 9.6 * u) < 0.9 * u),
    ring: () => false,
  };
  return png(size, (x, y) => {
    const body = coverage(mark === 'ring' ? ring : disc, x, y);
    const cut = coverage(marks[mark], x, y);
    if (template) return [0, 0, 0, Math.round(255 * Math.max(0, body - cut))];
    const a = Math.max(body, 0);
    const [rr, gg, bb] = color.map((v) => Math.round(v * (1 - cut) + 255 * cut));
    return [rr, gg, bb, Math.round(255 * a)];
  });
}

fs.mkdirSync(out, { recursive: true });
for (const state of Object.keys(STATES)) {
  fs.writeFileSync(path.join(out, `tray-${state}.png`), draw(16, state, false));
  fs.writeFileSync(path.join(out, `tray-${state}@2x.png`), draw(32, state, false));
  fs.writeFileSync(path.join(out, `tray-${state}Template.png`), draw(16, state, true));
  fs.writeFileSync(path.join(out, `tray-${state}Template@2x.png`), draw(32, state, true));
}
