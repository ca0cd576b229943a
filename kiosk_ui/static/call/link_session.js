// The specialist's link session (the one the code opened, which reads and writes the dossier)
// kept open while they are in the call: in a call the doctor uses the dossier without touching
// it, and the opinion written after a long call must not need a new code (a call holds the
// kiosk's lock off the same way). Asked at a third of the idle time the agent allows; nothing of
// the resident is read (no audit record). A link without a live session (the doctor never typed
// the code, or it ended): `onEnded`, and nothing more is asked.
import { askAgain } from "/static/js/ask_again.js";

// The link's API, from the page's own address (/s/<room>/<token>: the room's page and the dossier's).
export function linkApiOfPage() {
  const [, , room, token] = location.pathname.split("/");
  return `/api/v1/links/${encodeURIComponent(room)}/${encodeURIComponent(token)}`;
}

export function keepLinkSession(inCall, onEnded = () => {}) {
  askAgain(`${linkApiOfPage()}/session`, {
    every: 60_000, stop: () => !inCall(),  // the call is over: the idle time counts again
    answer: (session) => session.idle_seconds * 1000 / 3, endsOn: [401], onEnd: onEnded,
  });
}
