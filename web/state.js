// What the page knows: the person, the rooms it follows (each with its own
// list of messages, kept while another room shows) and the rooms the
// broker has. One object, shared by app.js and messages.js.
import { store } from "./prefs.js";
import { dmPeer } from "./util.js";
import { el } from "./view.js";

export const S = {
  nick: store.get("nick", ""),
  key: store.get("key", ""),
  token: store.get("token", ""),
  // room -> R (rooms this page follows)
  rooms: new Map(),
  // room -> {members, head}: every plain room the broker has
  directory: new Map(),
  // room -> {epoch, seq}: last seen here, for unread counts
  read: store.get("read", {}),
  active: "",
  fallback: false,
};

export const same = (a, b) => a.toLowerCase() === b.toLowerCase();

// A room's state, made on first use. seq: the newest seq seen; first: the
// oldest seq shown of this epoch (or passed over: hidden readings);
// oldest: the oldest the broker holds; live: the head at join (messages up
// to it are a replay, not news); series: the chat's sparklines; devs: name
// -> the room's devices as the store reports them (devices.js).
export function room(name) {
  let r = S.rooms.get(name);
  if (!r) {
    r = { name, dm: name[0] === "@", ol: el("ol", "messages"), keys: new Set(), members: new Set(), reads: {},
      typing: new Map(), unread: 0, day: 0, epoch: "", seq: 0, first: 0, oldest: 1, live: 0, series: new Map(), devs: new Map(), joined: false };
    S.rooms.set(name, r);
  }
  return r;
}

export const peer = (r) => r.peer || dmPeer(r.name, S.nick);
export const label = (r) => (r.dm ? "@ " + peer(r) : "# " + r.name);
