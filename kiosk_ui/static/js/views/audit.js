// The audit trail for admins: who did what to which patient's data, filtered by patient or user.
import { api } from "../api.js";
import { field, h, recordsPage, reportError } from "../dom.js";
import { T, frStamp } from "../i18n.js";

export function auditView() {
  const filters = { patient_id: "", actor: "" };
  const tbody = h("tbody");
  const more = h("button", { class: "button secondary", type: "button", hidden: true }, T.older);
  const emptyNote = h("p", { class: "empty", hidden: true }, T.auditEmpty);
  let oldest = null;
  const form = filterForm(() => setFilters("", ""));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    setFilters(form["filter-patient"].value.trim(), form["filter-actor"].value.trim());
  });

  // Tapping a user or a patient in the table filters on it, as typing it in the form would.
  function setFilters(patient, actor) {
    filters.patient_id = patient;
    filters.actor = actor;
    form["filter-patient"].value = patient;
    form["filter-actor"].value = actor;
    load(false);
  }

  // append: "Plus anciens" adds the 50 records before the oldest shown.
  async function load(append) {
    const params = new URLSearchParams({ limit: "50" });
    if (filters.patient_id) params.set("patient_id", filters.patient_id);
    if (filters.actor) params.set("actor", filters.actor);
    if (append && oldest) params.set("before_seq", String(oldest));
    try {
      const { items } = await api("GET", `/audit?${params}`);
      if (!append) tbody.replaceChildren();
      tbody.append(...items.map((r) => auditRow(r, setFilters)));
      oldest = items.length ? items[items.length - 1].seq : oldest;
      more.hidden = items.length < 50;
      emptyNote.hidden = tbody.children.length > 0;
    } catch (error) {
      reportError(error);
    }
  }
  more.addEventListener("click", () => load(true));
  load(false);

  const c = T.columns;
  return recordsPage({
    title: T.auditTitle, lead: T.auditLead, form, tbody, after: { note: emptyNote, more },
    headers: [c.at, c.actor, c.action, c.patient, c.from, c.outcome],
  });
}

function filterForm(onClear) {
  return h("form", { class: "form-row card", role: "search" },
    field({ id: "filter-patient", label: T.filterPatient, autocomplete: "off", spellcheck: "false" }),
    field({ id: "filter-actor", label: T.filterActor, autocomplete: "off", autocapitalize: "none", spellcheck: "false" }),
    h("button", { class: "button primary", type: "submit" }, T.filter),
    h("button", { class: "button secondary", type: "button", onclick: onClear }, T.clearFilters),
  );
}

function auditRow(r, setFilters) {
  return h("tr", { "data-seq": r.seq },
    h("td", {}, frStamp(r.at)),
    h("td", {}, h("button", { class: "linkish", type: "button", onclick: () => setFilters("", r.actor) }, r.actor),
      r.role_label ? h("div", { class: "hint" }, r.role_label) : null),
    h("td", {}, T.actions[r.action] || r.action, r.detail ? h("div", { class: "hint" }, r.detail) : null),
    h("td", {}, r.patient_id
      ? h("button", { class: "linkish mono", type: "button", onclick: () => setFilters(r.patient_id, "") }, r.patient_id.slice(0, 8))
      : "—"),
    h("td", { class: "mono" }, r.remote_addr || "—"),
    h("td", {}, h("span", { class: `badge outcome-${r.outcome}` }, T.outcomes[r.outcome] || r.outcome)),
  );
}
