// The teleconsultation form on a dossier's page (seed 000 §2.3.2): the requesting side's reason,
// history, observations and vitals; the expert's opinion, which a doctor writes and signs. Once
// signed, everything reads only. What is typed stays on screen when the page refreshes itself.
import { api } from "../api.js";
import { h, reportError, toast, twoTaps } from "../dom.js";
import { T, frWhen } from "../i18n.js";

const F = () => T.fiche;

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
      h("td", {}, v.label), h("td", {}, `${v.value.replace(".", ",")} ${v.unit}`), h("td", {}, frWhen(v.measured_at))))));
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
  const save = h("button", { class: "button primary", type: "button", hidden: closed }, F().save);
  const card = h("section", { class: "card fiche", "aria-labelledby": "fiche-title" },
    h("h2", { id: "fiche-title" }, F().title),
    area("fiche-reason", F().reason, f.reason, { disabled: closed, rows: 2 }),
    area("fiche-history", F().history, f.history, { disabled: closed }),
    area("fiche-observations", F().observations, f.observations, { disabled: closed }),
    h("h3", {}, F().vitals), vitals, closed ? null : vitalForm(dossier, (d) => { vitals.replaceChildren(vitalsTable(d.vitals)); }),
    h("h3", {}, F().opinion),
    doctor && !closed ? area("fiche-opinion", F().opinion, f.expert_opinion, { rows: 4 })
      : h("p", { class: "prose" }, f.expert_opinion || F().opinionWaiting),
    f.signed_by ? h("p", { class: "signed" }, F().signedBy(f.signed_by, frWhen(f.signed_at))) : null,
    h("div", { class: "actions-row" }, save,
      doctor && !closed ? h("button", { class: "button secondary", type: "button", "data-sign": "", onclick: twoTaps(F().sign, F().signConfirm, signNow) }, F().sign) : null));

  function changes() {
    const body = {};
    for (const [key, id] of [["reason", "fiche-reason"], ["history", "fiche-history"], ["observations", "fiche-observations"], ["expert_opinion", "fiche-opinion"]]) {
      const node = card.querySelector(`#${id}`);
      if (node && node.value !== (f[key] || "")) body[key] = node.value;
    }
    return body;
  }

  async function saveFiche() {
    const body = changes();
    if (!Object.keys(body).length) return dossier;
    const saved = await api("PATCH", `/dossiers/${dossier.id}/fiche`, body);
    Object.assign(f, saved.fiche);
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
