// Draws the page's PNG icons and favicon from web/icon.svg, so the SVG is
// their one source:
//   node cmake/gen-icons.mjs web      (writes web/icon-192.png, web/icon-512.png, web/favicon.ico)
// The PNGs are full-bleed squares (Android masks them to its own shape, iOS
// rounds the corners) with the bird scaled into the maskable safe zone (the
// middle 80% circle); the favicon is the SVG as drawn, 32x32. Output is
// indexed-colour PNG: every pixel is a blend of the SVG's two colours, so
// the images are small. The result is the same bytes on every machine;
// tests/web/test_icons.mjs draws them again and compares with web/.
// Understands exactly what icon.svg uses: a rounded <rect> and one <path>
// of M, c (relative cubic Béziers, repeated) and z.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { crc32, deflateSync } from "node:zlib";

const SS = 4;        // samples per pixel side (16 per pixel)
const BIRD_FULL = 0.9;  // the bird's scale about the centre in the full-bleed icons

function parse(svg) {
  const attr = (tag, name) => new RegExp("<" + tag + "[^>]*\\s" + name + '="([^"]*)"').exec(svg)[1];
  const hex = (h) => (h.length === 4 ? [1, 2, 3].map((i) => 17 * parseInt(h[i], 16)) : [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)));
  return { rx: +attr("rect", "rx"), back: hex(attr("rect", "fill")), fore: hex(attr("path", "fill")), d: attr("path", "d") };
}

// The path as a polygon (each cubic cut into 24 straight pieces), in SVG units.
function polygon(d) {
  const nums = (s) => s.match(/-?\d*\.?\d+/g).map(Number);
  const pts = [];
  let x = 0, y = 0;
  for (const [, cmd, args] of d.matchAll(/([MmCcZz])([^MmCcZz]*)/g)) {
    const n = args.trim() ? nums(args) : [];
    if (cmd === "M") { [x, y] = n; pts.push([x, y]); } else if (cmd === "c") {
      for (let i = 0; i + 5 < n.length; i += 6) {
        const [x1, y1, x2, y2, x3, y3] = n.slice(i, i + 6).map((v, k) => v + (k % 2 ? y : x));
        for (let s = 1; s <= 24; s++) {
          const t = s / 24, u = 1 - t;
          pts.push([u * u * u * x + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t * t * t * x3,
            u * u * u * y + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t * t * t * y3]);
        }
        [x, y] = [x3, y3];
      }
    } else if (cmd !== "Z" && cmd !== "z") throw new Error("icon.svg: path command " + cmd + " is not understood");
  }
  return pts;
}

// RGBA pixels of a size x size image: `full`: a full-bleed square with the
// bird at BIRD_FULL; else the rounded square as the SVG draws it.
function draw(icon, size, full) {
  const poly = polygon(icon.d).map(([px, py]) => (full ? [16 + (px - 16) * BIRD_FULL, 16 + (py - 16) * BIRD_FULL] : [px, py]));
  const k = size / 32, n = size * SS;
  const cover = new Uint16Array(size * size), bird = new Uint16Array(size * size);
  for (let sy = 0; sy < n; sy++) {
    const y = (sy + 0.5) / SS / k; // in SVG units
    const xs = [];
    for (let i = 0; i < poly.length; i++) {
      const [ax, ay] = poly[i], [bx, by] = poly[(i + 1) % poly.length];
      if ((ay <= y) !== (by <= y)) xs.push(ax + ((y - ay) / (by - ay)) * (bx - ax));
    }
    xs.sort((a, b) => a - b);
    for (let sx = 0; sx < n; sx++) {
      const x = (sx + 0.5) / SS / k, p = Math.floor(sy / SS) * size + Math.floor(sx / SS);
      let inRect = true;
      if (!full) {
        const cx = Math.min(Math.max(x, icon.rx), 32 - icon.rx), cy = Math.min(Math.max(y, icon.rx), 32 - icon.rx);
        inRect = (x - cx) ** 2 + (y - cy) ** 2 <= icon.rx ** 2;
      }
      if (!inRect) continue;
      cover[p]++;
      let inside = false;
      for (const cx of xs) if (cx < x) inside = !inside;
      if (inside) bird[p]++;
    }
  }
  const out = Buffer.alloc(size * size * 4);
  for (let p = 0; p < size * size; p++) {
    const a = cover[p] / (SS * SS), b = cover[p] ? bird[p] / cover[p] : 0;
    for (let c = 0; c < 3; c++) out[p * 4 + c] = Math.round(icon.back[c] * (1 - b) + icon.fore[c] * b);
    out[p * 4 + 3] = Math.round(255 * a);
  }
  return out;
}

function chunk(type, data) {
  const len = Buffer.alloc(4), crc = Buffer.alloc(4), body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  len.writeUInt32BE(data.length);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

// An indexed-colour PNG (with a tRNS chunk when any pixel is not opaque).
function png(rgba, size) {
  const index = new Map(), palette = [];
  const px = Buffer.alloc(size * (size + 1));
  for (let y = 0; y < size; y++) {
    px[y * (size + 1)] = 0; // filter: none
    for (let x = 0; x < size; x++) {
      const o = (y * size + x) * 4;
      const key = rgba.readUInt32BE(o);
      if (!index.has(key)) { index.set(key, palette.length); palette.push(key); }
      px[y * (size + 1) + 1 + x] = index.get(key);
    }
  }
  if (palette.length > 256) throw new Error("more than 256 colours");
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 3, 0, 0, 0], 8);
  const plte = Buffer.from(palette.flatMap((c) => [c >>> 24, (c >>> 16) & 255, (c >>> 8) & 255]));
  const alpha = palette.map((c) => c & 255);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr), chunk("PLTE", plte),
    ...(alpha.some((a) => a < 255) ? [chunk("tRNS", Buffer.from(alpha))] : []),
    chunk("IDAT", deflateSync(px, { level: 9 })), chunk("IEND", Buffer.alloc(0))]);
}

// An .ico holding one 32x32 PNG (every browser since 2007 reads those).
function ico(pngBytes) {
  const h = Buffer.alloc(22);
  h.writeUInt16LE(1, 2); // type: icon
  h.writeUInt16LE(1, 4); // one image
  h.set([32, 32, 0, 0], 6);
  h.writeUInt16LE(1, 10); // planes
  h.writeUInt16LE(32, 12); // bits per pixel
  h.writeUInt32LE(pngBytes.length, 14);
  h.writeUInt32LE(22, 18);
  return Buffer.concat([h, pngBytes]);
}

// The files, by name, from the text of icon.svg.
export function icons(svg) {
  const icon = parse(svg);
  return {
    "icon-192.png": png(draw(icon, 192, true), 192),
    "icon-512.png": png(draw(icon, 512, true), 512),
    "favicon.ico": ico(png(draw(icon, 32, false), 32)),
  };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop())) {
  const dir = process.argv[2] || "web";
  for (const [name, bytes] of Object.entries(icons(readFileSync(join(dir, "icon.svg"), "utf8")))) {
    writeFileSync(join(dir, name), bytes);
    console.log(name + ": " + bytes.length + " bytes");
  }
}
