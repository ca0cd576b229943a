// The card reader, heard as it changes: one event stream from the agent for the whole kiosk
// (GET /api/v1/card/events, server-sent events; the browser reconnects by itself). Each change
// is passed on as a "telecart:card" window event carrying the reader's status; `lastCard()` is the
// newest one, for a screen that opens after it arrived.
let last = null;
let stream = null;

export function followCard() {
  if (stream || typeof EventSource === "undefined") return;
  stream = new EventSource("/api/v1/card/events");
  stream.addEventListener("open", () => { last = null; });  // (re)connected: the agent may have restarted, its count too
  stream.addEventListener("message", (event) => {
    let status;
    try {
      status = JSON.parse(event.data);
    } catch {
      return;
    }
    if (last && status.version < last.version && status.version !== 0) return;  // an older one, late
    last = status;
    window.dispatchEvent(new CustomEvent("telecart:card", { detail: status }));
  });
}

export function lastCard() {
  return last;
}
