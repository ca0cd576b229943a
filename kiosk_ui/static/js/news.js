// What arrives from outside the cart (GET /documents/news): a prescription the specialist wrote on
// their page, a document they added, the regional server's answer. Heard at once (a soft two-note
// chime) and shown until a nurse opens it or closes it; only while a session is open, in the
// background (the poll neither keeps the kiosk awake nor survives a lock).
import { api } from "./api.js";
import { h } from "./dom.js";

const PERIOD_MS = 4000;

function chime() {
  try {
    const audio = new AudioContext();
    [[660, 0], [880, 0.22]].forEach(([frequency, at]) => {
      const tone = audio.createOscillator(), gain = audio.createGain();
      tone.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, audio.currentTime + at);
      gain.gain.exponentialRampToValueAtTime(0.25, audio.currentTime + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + at + 0.35);
      tone.connect(gain).connect(audio.destination);
      tone.start(audio.currentTime + at);
      tone.stop(audio.currentTime + at + 0.4);
    });
    setTimeout(() => audio.close(), 1500);
  } catch { /* no sound device: the notice still shows */ }
}

// `isOpen()`: a session is open and unlocked; `onOpen(dossierId)`: show that dossier.
export function followNews({ isOpen, onOpen }) {
  const shelf = h("div", { class: "news", "aria-live": "assertive" });
  document.body.append(shelf);
  // Kept across a reload of the page (the same session goes on): nothing arrived meanwhile is lost.
  let since = sessionStorage.getItem("telecart-news-since");
  let wasOpen = false;
  // During a call nothing covers the call's screen: notices wait for its end, and what came for
  // the dossier of that call (the doctor's photo, their document) was seen in the call already.
  let held = [];
  let lastCall = { dossier: null, until: 0 };  // what a poll fetches late (a page behind another) still counts as seen
  const announce = (items) => {
    const call = location.hash.match(/^#\/appel\/(.+)$/);
    shelf.hidden = Boolean(call);  // notices shown before the call wait behind it
    if (call) {
      lastCall = { dossier: call[1], until: Date.now() + 60_000 };
      held.push(...items);
      return;
    }
    const seen = (item) => item.dossier_id === lastCall.dossier && Date.now() < lastCall.until;
    const shown = [...held, ...items].filter((item) => !seen(item));
    held = [];
    if (shown.length) chime();
    for (const item of shown) shelf.append(notice(item, onOpen));
  };
  const tick = async () => {
    if (!isOpen()) {
      if (wasOpen) {  // locked or signed out: announce from the next opening on, not the past
        sessionStorage.removeItem("telecart-news-since");
        since = null;
        shelf.replaceChildren();
        held = [];
      }
      wasOpen = false;
    } else {
      wasOpen = true;
      try {
        const news = await api("GET", `/documents/news${since ? `?since=${encodeURIComponent(since)}` : ""}`, undefined, { background: true });
        since = news.now;
        sessionStorage.setItem("telecart-news-since", since);
        announce(news.items);
      } catch { /* offline or locked: the next tick tries again */
        announce([]);  // a call that ended meanwhile still lets its held notices out
      }
    }
    setTimeout(tick, PERIOD_MS);
  };
  tick();
}

// On the dossier's own page what came is already on screen (it follows its dossier): the notice
// says so, without a button to open the page the nurse is on.
function notice(item, onOpen) {
  const here = location.hash.startsWith(`#/dossier/${item.dossier_id}`);
  const box = h("div", { class: "news-item", role: "alert" },
    h("div", {}, h("strong", {}, `${item.kind_label} de ${item.added_by}`),
      h("div", {}, here ? `pour ${item.resident} — sur ce télédossier, ci-dessous` : `pour ${item.resident}`)),
    here ? null : h("button", { class: "button primary", type: "button", onclick: () => { box.remove(); onOpen(item.dossier_id); } },
      "Ouvrir le télédossier"),
    h("button", { class: "button secondary", type: "button", "aria-label": "Fermer l'annonce", onclick: () => box.remove() }, "✕"));
  return box;
}
