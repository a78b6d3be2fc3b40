// Unit tests of the page's pure helpers (web/util.js) under Node's own test
// runner: node --test tests/web/test_util.mjs (ctest web_util).
import assert from "node:assert/strict";
import { test } from "node:test";
import { backoff, dmPeer, dmRoom, mentions, nickProblem, nickValid, olderRange, roomName, seenBy, sparkPath, splitLinks,
  typingLine } from "../../web/util.js";

test("room names fold case and follow docs/protocol.md", () => {
  const cases = [["Lobby", "lobby"], [" garden ", "garden"], ["a", "a"], ["9-x_y", "9-x_y"], ["x".repeat(32), "x".repeat(32)],
    ["", ""], ["-a", ""], ["_a", ""], ["a b", ""], ["x".repeat(33), ""], ["@ann+bob", ""], ["caf\u00e9", ""]];
  for (const [i, want] of cases) assert.equal(roomName(i), want, JSON.stringify(i));
});

test("nicks: 1-24 of A-Z a-z 0-9 _ - .", () => {
  for (const n of ["a", "Ann", "x.y-z_1", "n".repeat(24)]) assert.ok(nickValid(n), n);
  for (const n of ["", "n".repeat(25), "a b", "ann!", "<b>"]) assert.ok(!nickValid(n), n);
});

test("direct-message rooms: lower-cased, sorted bytewise, joined by +", () => {
  assert.equal(dmRoom("bob", "Ann"), "@ann+bob");
  assert.equal(dmRoom("Ann", "bob"), "@ann+bob");
  assert.equal(dmRoom("a.b", "A-b"), "@a-b+a.b");
  assert.equal(dmPeer("@ann+bob", "Ann"), "bob");
  assert.equal(dmPeer("@ann+bob", "bob"), "ann");
});

test("links: only http and https, trailing punctuation left as text", () => {
  assert.deepEqual(splitLinks("see https://x.org/a?b=1. ok"),
    [{ text: "see " }, { href: "https://x.org/a?b=1", text: "https://x.org/a?b=1" }, { text: ". ok" }]);
  assert.deepEqual(splitLinks("(http://x.org)"), [{ text: "(" }, { href: "http://x.org", text: "http://x.org" }, { text: ")" }]);
  for (const t of ["javascript:alert(1)", "ftp://x.org", "data:text/html,<b>", "<img src=x onerror=alert(1)>", ""]) {
    assert.ok(splitLinks(t).every((p) => !p.href), t);
    assert.equal(splitLinks(t).map((p) => p.text).join(""), t);
  }
  const two = splitLinks("http://a.b and HTTPS://c.d/e");
  assert.deepEqual(two.filter((p) => p.href).map((p) => p.href), ["http://a.b", "HTTPS://c.d/e"]);
});

test("backoff grows exponentially, is capped at 30 s, and is jittered", () => {
  assert.equal(backoff(0, () => 0), 250);
  assert.equal(backoff(0, () => 1), 500);
  assert.equal(backoff(3, () => 1), 4000);
  assert.equal(backoff(10, () => 1), 30000);
  assert.equal(backoff(50, () => 0), 15000);
  const seen = new Set(Array.from({ length: 20 }, () => backoff(4)));
  assert.ok(seen.size > 1, "jitter spreads the delays");
  for (const v of seen) assert.ok(v >= 4000 && v <= 8000, String(v));
});

test("sparkline paths span the box and handle flat and single series", () => {
  assert.equal(sparkPath([], 64, 18), "");
  assert.equal(sparkPath([5], 64, 18), "M1.0 9.0");
  assert.equal(sparkPath([1, 1], 64, 18), "M1.0 9.0L63.0 9.0");
  assert.equal(sparkPath([0, 10, 5], 64, 18), "M1.0 17.0L32.0 1.0L63.0 9.0");
});

test("receipts sit on the newest shown message each nick has read", () => {
  const shown = [[2, "x"], [3, "x"], [5, "x"], [7, "x"]];
  const m = seenBy({ ann: 5, bob: 3, Carl: 9, me: 9, zed: 1 }, shown, "Me");
  assert.deepEqual([...m.entries()].sort(), [[3, ["bob"]], [5, ["ann"]], [7, ["Carl"]]]);
  assert.equal(seenBy({ ann: 5 }, [], "me").size, 0);
});

test("receipts never go under the reader's own message", () => {
  // ann read up to 7, her own message: "seen by ann" goes under bob's 5.
  const shown = [[3, "ann"], [5, "bob"], [7, "Ann"]];
  assert.deepEqual([...seenBy({ ann: 7 }, shown, "me")], [[5, ["ann"]]]);
  // Only her own messages at or below her read: no receipt at all.
  assert.equal(seenBy({ ann: 3 }, shown, "me").size, 0);
  assert.deepEqual([...seenBy({ bob: 7 }, shown, "me")], [[7, ["bob"]]]);
});

test("nick problems name the characters that are not allowed", () => {
  for (const n of ["a", "Ann", "x.y-z_1", "n".repeat(24)]) assert.equal(nickProblem(n), "", n);
  assert.equal(nickProblem(""), "Pick a nick.");
  assert.match(nickProblem("n".repeat(25)), /At most 24 characters \(this has 25\)/);
  assert.match(nickProblem("Alice Smith"), /^Not allowed: space\. /);
  assert.match(nickProblem("a!b!c?"), /^Not allowed: “!”, “\?”\. /);
  assert.match(nickProblem("zoë"), /“ë”/);
  assert.match(nickProblem("a\u{1F600}"), /“\u{1F600}”/u, "a character outside the BMP is named whole");
  for (const n of ["Alice Smith", "<b>", "a/b"]) assert.ok(!nickValid(n) && nickProblem(n), n);
});

test("mentions: the nick as a word, with or without @, in any case", () => {
  for (const t of ["ann", "@ann hi", "hi Ann.", "ANN: look", "(ann)", "see @Ann, ok", "hey\nann"]) assert.ok(mentions(t, "ann"), t);
  for (const t of ["anna", "joann", "ann_x", "ann-b", "x.ann", "ann.b", "", "a n n"]) assert.ok(!mentions(t, "ann"), t);
  assert.ok(mentions("hi a.b-c!", "a.b-c"), "dots and dashes in a nick are literal");
  assert.ok(!mentions("hi aXb-c", "a.b-c"), "a dot matches only a dot");
  assert.ok(!mentions("anything", ""));
});

test("older history: the page before the oldest shown, down to the oldest held", () => {
  assert.deepEqual(olderRange(151, 1, 50), { since: 100, limit: 50 });
  assert.deepEqual(olderRange(30, 1, 50), { since: 0, limit: 29 });
  assert.deepEqual(olderRange(60, 20, 50), { since: 19, limit: 40 });
  assert.deepEqual(olderRange(2, 1, 50), { since: 0, limit: 1 });
  assert.equal(olderRange(1, 1, 50), null);
  assert.equal(olderRange(20, 20, 50), null);
  assert.equal(olderRange(5, 9, 50), null);
  assert.equal(olderRange(0, 1, 50), null);
  assert.equal(olderRange(9, 1, 0), null);
});

test("typing line", () => {
  assert.equal(typingLine([]), "");
  assert.equal(typingLine(["ann"]), "ann is typing…");
  assert.equal(typingLine(["ann", "bob"]), "ann and bob are typing…");
  assert.equal(typingLine(["a", "b", "c"]), "3 people are typing…");
});
