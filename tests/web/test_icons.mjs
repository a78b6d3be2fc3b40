// The page's PNG icons and favicon are drawn from web/icon.svg by
// cmake/gen-icons.mjs: drawing them again gives the committed bytes, so
// they never drift from the SVG (node --test, ctest web_icons).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { inflateSync } from "node:zlib";
import { icons } from "../../cmake/gen-icons.mjs";

const web = new URL("../../web/", import.meta.url);
const drawn = icons(readFileSync(new URL("icon.svg", web), "utf8"));

// {width, height, colours, opaque, pixels (palette indices, rows)} of an indexed PNG.
function readPng(b) {
  assert.deepEqual([...b.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], "PNG signature");
  const chunks = {};
  for (let o = 8; o < b.length;) {
    const len = b.readUInt32BE(o), type = b.toString("latin1", o + 4, o + 8);
    chunks[type] = Buffer.concat([chunks[type] || Buffer.alloc(0), b.subarray(o + 8, o + 8 + len)]);
    o += 12 + len;
  }
  const w = chunks.IHDR.readUInt32BE(0), h = chunks.IHDR.readUInt32BE(4);
  assert.deepEqual([...chunks.IHDR.subarray(8)], [8, 3, 0, 0, 0], "8-bit indexed colour, no interlace");
  const raw = inflateSync(chunks.IDAT);
  assert.equal(raw.length, h * (w + 1));
  return { w, h, colours: chunks.PLTE.length / 3, opaque: !chunks.tRNS, palette: chunks.PLTE, raw };
}

test("the committed icons are the ones drawn from icon.svg", () => {
  for (const [name, bytes] of Object.entries(drawn)) {
    assert.ok(readFileSync(new URL(name, web)).equals(bytes), name + " differs: run node cmake/gen-icons.mjs web");
  }
});

test("the app icons are full-bleed squares of the SVG's colours, the bird inside the maskable safe zone", () => {
  for (const [name, size] of [["icon-192.png", 192], ["icon-512.png", 512]]) {
    const p = readPng(drawn[name]);
    assert.equal(p.w, size);
    assert.equal(p.h, size);
    assert.ok(p.opaque, name + " has no transparency (Android and iOS shape it themselves)");
    assert.ok(p.colours >= 2 && p.colours <= 17, name + ": the two colours and their blends");
    // The corners are the background; every white-ish pixel lies in the middle 80% circle.
    const at = (x, y) => p.raw[y * (size + 1) + 1 + x];
    assert.deepEqual([...p.palette.subarray(at(0, 0) * 3, at(0, 0) * 3 + 3)], [0x2f, 0x6f, 0x5e]);
    let bird = 0;
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
      if (at(x, y) === at(0, 0)) continue;
      bird++;
      assert.ok(Math.hypot(x + 0.5 - size / 2, y + 0.5 - size / 2) <= 0.4 * size, `${name}: (${x},${y}) outside the safe zone`);
    }
    assert.ok(bird > size * size * 0.08, name + " draws the bird");
  }
});

test("the favicon is an .ico holding the 32x32 rounded icon", () => {
  const ico = drawn["favicon.ico"];
  assert.equal(ico.readUInt16LE(2), 1, "type: icon");
  assert.equal(ico.readUInt16LE(4), 1, "one image");
  assert.equal(ico.readUInt32LE(14), ico.length - 22, "its size");
  const p = readPng(ico.subarray(ico.readUInt32LE(18)));
  assert.equal(p.w, 32);
  assert.ok(!p.opaque, "rounded corners are transparent");
});
