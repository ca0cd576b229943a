// The teleconsultation form on a dossier's page (seed 000 §2.3.2): the requesting side's reason,
// history, observations and vitals; the expert's opinion, which a doctor writes and signs. Once
// signed, everything reads only. What is typed stays on screen when the page refreshes itself,
// is kept as a draft on the cart as it is typed (an idle lock, a reload, a restart lose nothing;
// agent/dossiers/fiche_draft.py), and is saved when the nurse leaves the page (dossier.js).
import { api } from "../api.js";
import { h, reportError, toast, twoTaps } from "../dom.js";
import { T, frWhen } from "../i18n.js";
import { checkupView } from "./checkup.js";
import { liveVitalsPanel } from "./live_vitals_panel.js";
import { printButton } from "./print_button.js";

const F = () => T.fiche;

const FIELDS = [["reason", "fiche-reason"], ["history", "fiche-history"], ["observations", "fiche-observations"], ["expert_opinion", "fiche-opinion"]];

function area(id, label, value, { disabled, rows = 3 } = {}) {
  return h("div", { class: "field" },
    h("label", { for: id }, label),
    h("textarea", { id, rows, disabled, maxlength: 20000 }, value || ""));
}

function vitalsTable(vitals) {
  if (!vitals.length) return h("p", { class: "hint" }, F().noVitals);
  return h("table", { class: "records vitals" },
    h("thead", {}, h("tr", {}, h("th", {}, F().vital), h("th", {}, F().value), h("th", {}, F().measured))),
    h("tbody", {}, vitals.map((v) => h("tr", {},
      h("td", {}, v.label,
        h("span", { class: "source" }, v.device ? F().measuredBy(v.device) : F().typed, v.warnings ? ` — ${v.warnings}` : "")),
      h("td", {}, `${v.value.replace(".", ",")} ${v.unit}`), h("td", {}, frWhen(v.measured_at))))));
}

// The guided check-up over the page; its set recorded, the fiche's table shows it.
function openCheckup(dossier, onRecorded) {
  const backdrop = h("div", { class: "checkup-backdrop" });
  const close = () => backdrop.remove();
  backdrop.append(checkupView({ dossier, onClose: close, onDone: (updated) => { close(); onRecorded(updated); } }));
  document.body.append(backdrop);
}

function vitalForm(dossier, onChanged) {
  const kind = h("select", { id: "vital-kind" }, Object.entries(F().kinds).map(([value, label]) => h("option", { value }, label)));
  const value = h("input", { id: "vital-value", inputmode: "decimal", autocomplete: "off", placeholder: F().valueHint });
  const form = h("form", { class: "form-row vital-form" },
    h("div", { class: "field" }, h("label", { for: "vital-kind" }, F().vital), kind),
    h("div", { class: "field" }, h("label", { for: "vital-value" }, F().value), value),
    h("button", { class: "button secondary", type: "submit" }, F().addVital));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      onChanged(await api("POST", `/dossiers/${dossier.id}/vitals`, { kind: kind.value, value: value.value.trim() }));
      toast(F().vitalAdded);
    } catch (error) {
      reportError(error);
    }
  });
  return form;
}

export function ficheCard({ dossier, session, onChanged }) {
  const closed = ["closed", "cancelled"].includes(dossier.state);
  const doctor = session.user.role === "doctor";
  const f = dossier.fiche;
  const vitals = h("div", {}, vitalsTable(dossier.vitals));
  // A vital recorded hands back the dossier: its table here, and the page's own copy (its version
  // moved, and the page would otherwise read the dossier once more at the next pulse).
  const showVitals = (d) => { vitals.replaceChildren(vitalsTable(d.vitals)); onChanged(d); };
  const save = h("button", { class: "button primary", type: "button", hidden: closed }, F().save);
  const status = h("span", { class: "fiche-status", role: "status" });
  const card = h("section", { class: "card fiche", "aria-labelledby": "fiche-title" },
    h("h2", { id: "fiche-title" }, dossier.kind === "teleexpertise" ? F().titleExpertise : F().title),
    area("fiche-reason", F().reason, f.reason, { disabled: closed, rows: 2 }),
    area("fiche-history", F().history, f.history, { disabled: closed }),
    area("fiche-observations", F().observations, f.observations, { disabled: closed }),
    h("h3", {}, F().vitals), vitals,
    closed ? null : liveVitalsPanel({ dossier, onRecorded: showVitals, onCheckup: () => openCheckup(dossier, showVitals) }),
    closed ? null : vitalForm(dossier, showVitals),
    h("h3", {}, F().opinion),
    doctor && !closed ? area("fiche-opinion", F().opinion, f.expert_opinion, { rows: 4 })
      : h("p", { class: "prose" }, f.expert_opinion || F().opinionWaiting),
    f.signed_by ? h("p", { class: "signed" }, F().signedBy(f.signed_by, frWhen(f.signed_at))) : null,
    printButton({ dossierId: dossier.id }),
    h("div", { class: "actions-row fiche-actions" }, save, status,
      doctor && !closed ? h("button", { class: "button secondary", type: "button", "data-sign": "", onclick: twoTaps(F().sign, F().signConfirm, signNow) }, F().sign) : null));

  const fields = () => FIELDS.map(([key, id]) => [key, card.querySelector(`#${id}`)]).filter(([, node]) => node && !node.disabled);
  function changes() {
    const body = {};
    for (const [key, node] of fields()) if (node.value !== (f[key] || "")) body[key] = node.value;
    return body;
  }
  // The save button sticks to the screen's bottom only while there is something to save: the rest
  // of the time it would cover the card's own title and fields for nothing.
  const say = (text) => {
    status.textContent = text;
    card.classList.toggle("unsaved", Object.keys(changes()).length > 0);
  };

  // The draft follows the typing (0.6 s after the last key), one request at a time.
  let timer = null;
  let drafting = Promise.resolve();
  const keepDraft = () => {
    const body = changes();
    drafting = drafting.then(() => api("PUT", `/dossiers/${dossier.id}/fiche/draft`, { draft: Object.keys(body).length ? body : null }, { background: true }))
      .catch((error) => { if (error.status !== 401 && error.code !== "session_locked") say(F().draftNotKept); });
  };
  card.addEventListener("input", (event) => {
    if (event.target.tagName !== "TEXTAREA" || !FIELDS.some(([, id]) => id === event.target.id)) return;
    say(Object.keys(changes()).length ? F().unsaved : "");
    clearTimeout(timer);
    timer = setTimeout(keepDraft, 600);
  });
  if (!closed) restoreDraft();

  async function restoreDraft() {
    try {
      const { draft } = await api("GET", `/dossiers/${dossier.id}/fiche/draft`);
      if (!draft) return;
      for (const [key, node] of fields()) if (typeof draft[key] === "string" && node.value === (f[key] || "")) node.value = draft[key];
      if (Object.keys(changes()).length) say(F().draftRestored);
    } catch { /* no draft to show: the saved fiche is on screen */ }
  }

  async function saveFiche() {
    clearTimeout(timer);
    await drafting;  // a draft on its way must not outlive the save
    const body = changes();
    if (!Object.keys(body).length) return dossier;
    const saved = await api("PATCH", `/dossiers/${dossier.id}/fiche`, body);
    Object.assign(f, saved.fiche);
    say("");
    onChanged(saved);
    return saved;
  }

  save.addEventListener("click", async () => {
    try {
      await saveFiche();
      toast(F().saved);
    } catch (error) {
      reportError(error);
    }
  });
  card.unsaved = () => !closed && Object.keys(changes()).length > 0;
  card.showing = () => JSON.stringify([dossier.state, f]);  // the saved fiche on screen, as the dossier's page compares it
  card.saveNow = saveFiche;

  // A signature is final.
  async function signNow() {
    try {
      await saveFiche();
      onChanged(await api("POST", `/dossiers/${dossier.id}/signature`));
      toast(F().signed);
    } catch (error) {
      reportError(error);
    }
  }
  return card;
}
