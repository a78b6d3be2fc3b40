// The message log's scrolling. It follows new messages only while the
// reader is at its bottom; a reader scrolled up stays where they are and
// gets a "N new" pill that jumps down. Anything added or removed above what
// they read (older history, the oldest messages dropped) keeps their place,
// done here rather than by the browser's scroll anchoring (which Safari
// lacks, and which would add its own shift to this one: overflow-anchor is
// off in style.css). When the log changes size (a phone's keyboard opens,
// the input grows) a reader at the bottom stays pinned to it.

const log = document.getElementById("log");
const pill = document.getElementById("pill");
// px from the bottom that still count as "at the bottom"
const NEAR = 40;
// px from the top at which older history is asked for
const EARLY = 300;
let bottom = true;
let fresh = 0;
let hooks = { bottom() {}, top() {} };

// Measured now, not at the last scroll event (which may still be on its way).
export const atBottom = () => log.scrollHeight - log.scrollTop - log.clientHeight < NEAR;

export function toBottom() {
  log.scrollTop = log.scrollHeight;
  bottom = true;
  fresh = 0;
  pill.hidden = true;
}

// A message from someone else came into the shown log; `pinned`: the
// reader was at the bottom just before (atBottom()).
export function arrived(pinned) {
  if (pinned) { toBottom(); return; }
  bottom = false;
  fresh++;
  pill.textContent = fresh + " new ↓";
  pill.hidden = false;
}

// Runs `change` (which adds or removes messages above the reader) and puts
// back on screen what was there: the first element in view keeps its offset.
export function keepPlace(change) {
  if (atBottom()) { change(); toBottom(); return; }
  const top = log.getBoundingClientRect().top;
  let a = null;
  for (const x of log.querySelectorAll("li.msg")) if (x.getBoundingClientRect().bottom > top) { a = x; break; }
  const y = a ? a.getBoundingClientRect().top : 0;
  change();
  if (a && a.isConnected) log.scrollTop += a.getBoundingClientRect().top - y;
}

// Asks for older history when the reader is near the top, or when the log
// does not fill its box (nothing to scroll yet).
export function check() {
  bottom = log.scrollHeight - log.scrollTop - log.clientHeight < NEAR;
  if (bottom && fresh) { fresh = 0; pill.hidden = true; }
  if (bottom) hooks.bottom();
  if (log.scrollTop < EARLY) hooks.top();
}

// `on.bottom()`: the reader reached the bottom; `on.top()`: near the top.
export function wireLog(on) {
  hooks = on;
  log.addEventListener("scroll", check, { passive: true });
  pill.addEventListener("click", () => { toBottom(); hooks.bottom(); });
  const pin = new ResizeObserver(() => { if (bottom) log.scrollTop = log.scrollHeight; });
  pin.observe(log);
  // the page observes each room's list with it too (show())
  return pin;
}
