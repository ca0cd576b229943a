// The practice mode (agent/practice/): on the real kiosk, the card that starts it (in
// « Paramètres »); on the practice kiosk, the strip every screen carries, with the way out.
import { api } from "../api.js";
import { h, reportError, twoTaps } from "../dom.js";
import { T } from "../i18n.js";
import { watchIdle } from "../idle.js";

const P = () => T.practice;
const REAL_CALL_PERIOD_MS = 5000;

// The practice kiosk's strip, above every screen (the login and lock screens and the call too).
// `idleSeconds`: nobody touches the kiosk that long and the practice ends by itself, so the next
// nurse finds the real cart, not a practice (the last half-minute counted down on the strip).
// `backTo`: the real kiosk, where leaving goes, and where the kiosk goes if the practice is gone.
export function practiceStrip({ idleSeconds, backTo }) {
  const leave = async (button) => {
    button.disabled = true;
    button.textContent = P().leaving;
    try {
      const { back_to: to } = await api("POST", "/practice/leave");
      location.assign(to);
    } catch (error) {
      if (error.status === 0 || error.code === "practice_not_inside") { location.assign(backTo); return; }  // already ended
      reportError(error);
      button.disabled = false;
      button.textContent = P().leave;
    }
  };
  const button = h("button", { class: "button practice-leave", type: "button" }, P().leave);
  button.onclick = twoTaps(P().leave, P().leaveConfirm, () => leave(button));
  const answer = h("button", { class: "button primary", type: "button" }, P().realCallLeave);
  answer.onclick = () => leave(answer);  // one tap: a real doctor waits, the practice holds nothing real
  const realCall = h("div", { class: "practice-real-call", role: "alert", hidden: true }, h("span", {}), answer);
  watchRealCallers(realCall, backTo);
  const ending = h("div", { class: "practice-ending", role: "alert", hidden: true });
  watchIdle(idleSeconds, () => leave(button), null, (left) => {
    ending.hidden = left === null;
    ending.textContent = left === null ? "" : P().endingIn(left);
  });
  return h("div", { class: "practice-strip", role: "region", "aria-label": P().badge },
    h("strong", { class: "practice-badge" }, P().badge),
    h("span", { class: "practice-text" }, P().strip),
    button, ending, realCall);
}

// A real doctor in a real room while the nurse practises: said over everything, until she leaves.
// The practice's agent no longer answering (the cart ended an idle practice): back to the real kiosk.
function watchRealCallers(alert, backTo) {
  let unanswered = 0;
  const tick = async () => {
    const seen = await api("GET", "/practice/real-callers", undefined, { background: true }).catch((error) => {
      unanswered = error.status === 0 ? unanswered + 1 : 0;
      return null;
    });
    if (unanswered >= 2) { location.assign(backTo); return; }
    if (seen) {
      unanswered = 0;
      alert.hidden = seen.names.length === 0;
      alert.firstChild.textContent = seen.names.length ? P().realCall(seen.names.join(", ")) : "";
    }
    setTimeout(tick, REAL_CALL_PERIOD_MS);
  };
  tick();
}

// « Paramètres »: start (or resume) a practice, when this cart offers it.
export function practiceCard() {
  const card = h("section", { class: "card form practice-card", hidden: true });
  api("GET", "/practice").then((state) => {
    if (!state.offered) return;
    const start = h("button", { class: "button primary large", type: "button", "data-start-practice": "" },
      state.active ? P().resume : P().start);
    start.onclick = async () => {
      start.disabled = true;
      start.textContent = P().starting;
      try {
        const { url } = await api("POST", "/practice");
        location.assign(url);
      } catch (error) {
        reportError(error);
        start.disabled = false;
        start.textContent = state.active ? P().resume : P().start;
      }
    };
    card.replaceChildren(h("h2", {}, P().title), h("p", {}, P().lead), h("p", { class: "hint" }, P().rules), h("div", { class: "actions" }, start));
    card.hidden = false;
  }).catch(reportError);
  return card;
}

// At start: the practice kiosk says so on every screen.
export async function markPractice() {
  const state = await api("GET", "/practice", undefined, { background: true }).catch(() => null);
  if (!state || !state.inside) return;
  document.body.classList.add("practice");
  document.body.prepend(practiceStrip({ idleSeconds: state.idle_seconds, backTo: state.back_to }));
  document.title = `${P().badge} — Telecart`;
}

// The practice kiosk opened by the real one, "#/entree/<one-time code>": the code opens the nurse's
// session here and leaves the address (an expired one: the login screen, her password works).
export async function enterPractice() {
  const match = location.hash.match(/^#\/entree\/([A-Za-z0-9_-]+)$/);
  if (!match) return;
  history.replaceState(null, "", "#/activite");
  try {
    await api("POST", "/practice/enter", { code: match[1] });
  } catch (error) {
    reportError(error);
  }
}
