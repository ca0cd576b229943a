// The technician's view of the cart's call: what each participant receives of the cart's video
// (their browser measures it) and what the cart sends, refreshed every two seconds. The same
// figures are in /metrics (telecart_call_*).
import { api } from "../api.js";
import { h, reportError } from "../dom.js";

const CANDIDATE = { host: "direct (réseau local)", srflx: "direct (via NAT)", prflx: "direct (via NAT)", relay: "relais TURN" };
const STATE = { new: "en préparation", connecting: "connexion…", connected: "connecté", disconnected: "coupé", failed: "échec", closed: "fermé" };
const ROLE = { specialist: "Médecin requis", relative: "Proche", professional: "Professionnel de santé", guest: "Invité" };

const num = (v, digits = 0, unit = "") => (v === undefined || v === null ? "—" : `${Number(v).toFixed(digits)}${unit}`);

export function callStatsView() {
  const body = h("div", {}, h("p", { class: "hint" }, "Chargement…"));
  const root = h("div", { class: "records-page" },
    h("div", {}, h("h1", {}, "Appel en cours : qualité"),
      h("p", { class: "hint" }, "Ce que chaque participant reçoit de l'image du chariot, mesuré par son navigateur, et ce que le chariot envoie. Actualisé toutes les 2 secondes.")),
    body);
  let timer = null;
  const refresh = async () => {
    if (!root.isConnected && timer !== null) { clearInterval(timer); return; }
    try {
      render(await api("GET", "/call/stats", undefined, { background: true }));
    } catch (error) {
      reportError(error);
      clearInterval(timer);
    }
  };
  const render = (stats) => {
    const camera = stats.camera.cameras.find((c) => c.id === stats.camera.active);
    const head = h("p", {}, `Caméra active : ${camera ? camera.label : "—"}${stats.camera.notice ? ` — ${stats.camera.notice}` : ""}`);
    if (!stats.in_call) { body.replaceChildren(head, h("p", { class: "card" }, "Le chariot n'est pas en appel.")); return; }
    // Through the region's Janus the cart sends once, to Janus, whoever receives it.
    const janus = stats.janus && h("p", { class: "janus-sending" }, "Par le serveur de visioconférence de la région : le chariot envoie une seule fois, ",
      `${num(stats.janus.bitrate_kbps, 0, " kbit/s")} · ${STATE[stats.janus.state] || stats.janus.state}`,
      stats.janus.width ? ` · ${stats.janus.width} × ${stats.janus.height}` : "");
    const rows = stats.participants.map((p) => {
      const r = p.received || {}, s = p.sent || {};
      return h("tr", { "data-participant": p.id },
        h("td", {}, h("strong", {}, p.name), h("br"), h("span", { class: "hint" }, ROLE[p.role] || p.role)),
        h("td", {}, r.width ? `${r.width} × ${r.height}` : "—"),
        h("td", {}, num(r.fps, 1)),
        h("td", {}, num(r.bitrate_kbps, 0, " kbit/s")),
        h("td", {}, num(r.packets_lost)),
        h("td", {}, num(r.rtt_ms ?? s.rtt_ms, 1, " ms")),
        h("td", {}, r.codec || s.codec || "—"),
        h("td", {}, CANDIDATE[r.candidate] || r.candidate || "—"),
        stats.janus ? h("td", {}, "par le serveur régional", p.janus_picture === "small" && h("br"),
          p.janus_picture === "small" && h("span", { class: "hint" }, "petite image : son lien ne porte pas la grande")) : h("td", {}, `${num(s.bitrate_kbps, 0, " kbit/s")} · ${STATE[s.state] || s.state || "—"}`,
          s.quality && h("br"), s.quality && h("span", { class: "hint" }, `${s.quality}${s.estimate_kbps ? ` (lien estimé ${s.estimate_kbps} kbit/s)` : ""}${s.held_ms != null ? ` · ${num(s.held_ms)} ms au chariot` : ""}${s.sound_spread_ms != null ? ` · son régulier à ${num(s.sound_spread_ms)} ms près` : ""}`)));
    });
    body.replaceChildren(head, janus || "", h("section", { class: "card results" }, h("div", { class: "table-wrap" },
      h("table", { class: "records" },
        h("thead", {}, h("tr", {}, ["Participant", "Définition reçue", "Images/s", "Débit reçu", "Paquets perdus", "Aller-retour", "Codec", "Chemin", "Envoi du chariot"]
          .map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, rows)))));
  };
  refresh();
  timer = setInterval(refresh, 2000);
  return root;
}
