// A resident's page, opened from the Résidents search: who they are (the identity check, with
// « Modifier »), their teleconsultations, newest first, each opening its dossier, and « Créer une
// téléconsultation » that starts the wizard with this resident already chosen.
import { api } from "../api.js";
import { h, icon, reportError } from "../dom.js";
import { T, frWhen } from "../i18n.js";
import { identityCheck } from "./identity_check.js";

const R = () => T.resident;

function consultationRow(d, onOpen) {
  const when = d.slot_start || d.updated_at;
  return h("li", { class: "row clickable", "data-consultation": d.id, role: "button", tabindex: "0", onclick: () => onOpen(d.id) },
    h("span", { class: "when" }, frWhen(when)),
    h("span", { class: `badge state-${d.state}` }, T.states[d.state] || d.state),
    h("span", { class: "who" }, d.specialist || d.specialty ? T.withSpecialist(d.specialist, d.specialty) : T.noSpecialist),
    d.reason ? h("span", { class: "meta" }, d.reason) : null);
}

export function residentPage({ patientId, session, onBack, onOpenDossier, onNewConsultation, onNewExpertise }) {
  const canWrite = session.user.permissions.includes("health.write");
  const list = h("div", { class: "panel-body" }, h("p", { class: "hint" }, T.wizard.loading));
  api("GET", `/dossiers?${new URLSearchParams({ patient_id: patientId })}`).then(({ items }) => {
    const newest = [...items].sort((a, b) => String(b.slot_start || b.updated_at).localeCompare(String(a.slot_start || a.updated_at)));
    list.replaceChildren(newest.length ? h("ul", { class: "list" }, newest.map((d) => consultationRow(d, onOpenDossier)))
      : h("div", { class: "empty" }, icon("calendar"), h("p", { class: "title" }, R().none), h("p", {}, canWrite ? R().noneText : "")));
  }).catch(reportError);
  return h("div", { class: "resident-page" },
    h("div", { class: "page-head" },
      h("button", { class: "button secondary", type: "button", onclick: onBack }, R().back),
      h("h1", {}, R().title),
      canWrite ? h("button", { class: "button secondary", type: "button", onclick: onNewExpertise }, "Demander une téléexpertise") : null,
      canWrite ? h("button", { class: "button primary", type: "button", "data-new-consultation": "", onclick: onNewConsultation },
        icon("plus"), T.newConsultation) : null),
    h("div", { class: "resident-grid" },
      h("section", { class: "card" }, identityCheck({ patientId })),
      h("section", { class: "card panel", "aria-label": R().consultations },
        h("div", { class: "panel-head" }, h("h2", {}, R().consultations)),
        list)));
}
