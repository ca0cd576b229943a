// The activity's pulse (GET /activity/pulse): every few seconds, whether anything changed (a
// version made of counts and times) and who is in which room, without reading any resident's
// data: a view reads its dossiers again (an audited access) only when the version moves.
import { api } from "./api.js";
import { T } from "./i18n.js";

const PERIOD_MS = 5000;
const SOON_MS = 1500;

// Calls `onPulse(pulse)` every few seconds while `node` is on screen; with `dossier` (an id), the
// pulse carries that dossier's version too; `soon()` true asks the next pulse sooner (a message
// leaving, whose « envoyé » the nurse is waiting for). Background requests: they neither keep the
// kiosk awake nor stop when it is locked (they just fail until it is unlocked).
export function followPulse(node, onPulse, { dossier = null, soon = () => false } = {}) {
  const path = dossier ? `/activity/pulse?dossier=${encodeURIComponent(dossier)}` : "/activity/pulse";
  const tick = async () => {
    if (!node.isConnected) return;  // the view was left: stop
    try {
      onPulse(await api("GET", path, undefined, { background: true }));
    } catch { /* locked or offline: the next tick tries again */ }
    setTimeout(tick, soon() ? SOON_MS : PERIOD_MS);
  };
  setTimeout(tick, 0);  // once the view is on screen
}

// "Dr Claire PETIT vous attend en salle", "… vous attendent", who is in the lobby; null when
// the room is empty. `room` is one of the pulse's rooms.
export function presenceText(room) {
  if (!room) return null;
  const names = room.present.map((m) => m.name);
  const parts = [];
  if (names.length) parts.push(room.cart_in_call ? T.presence.inRoom(names) : T.presence.waitsForYou(names));
  if (room.waiting.length) parts.push(T.presence.lobby(room.waiting.map((w) => w.name)));
  return parts.length ? parts.join(" · ") : null;
}
