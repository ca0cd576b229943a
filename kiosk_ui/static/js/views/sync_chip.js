// What has not reached the regional server yet, under the top bar of every screen: « 3 dossiers en
// attente d'envoi depuis 10 h 02 », why when it failed, what a person must look at. Nothing when all
// is sent. Asked every 15 s (GET /sync, a background request that reads no resident's data).
import { api } from "../api.js";
import { h } from "../dom.js";
import { T, frTime } from "../i18n.js";

const PERIOD_MS = 15000;
const Y = () => T.sync;

function said(s) {
  if (!s.waiting_dossiers && !s.problems) return null;
  const parts = [];
  if (s.waiting_dossiers) {
    parts.push(Y().waiting(s.waiting_dossiers, s.waiting_since ? frTime(new Date(s.waiting_since)) : null));
    parts.push(!s.configured ? Y().noServer : s.error ? Y().failing(s.error) : Y().sending);
  }
  if (s.problems) parts.push(Y().problems(s.problems));
  return parts.join(" · ");
}

export function syncChip() {
  const chip = h("p", { class: "sync-chip", role: "status", hidden: true });
  const tick = async () => {
    if (!chip.isConnected && chip.dataset.started) return;  // the screen was left: stop
    chip.dataset.started = "1";
    try {
      const s = await api("GET", "/sync", undefined, { background: true });
      // The practice sends nothing to the region, by design: its queue is not a problem to show.
      const text = document.body.classList.contains("practice") ? null : said(s);
      chip.hidden = !text;
      chip.textContent = text || "";
      chip.title = text || "";  // the whole sentence, when the two lines cut it
      chip.classList.toggle("failing", Boolean(s.error || s.problems || !s.configured));
    } catch { /* locked or offline: the next tick tries again */ }
    setTimeout(tick, PERIOD_MS);
  };
  setTimeout(tick, 0);
  return chip;
}
