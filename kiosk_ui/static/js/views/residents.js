// Résidents: the identity search of seed 000 §2.2.1 (RECHERCHE D'IDENTITÉ), exact, approaching or
// phonetic, with the match rate. The first step of the teleconsultation wizard reuses it with
// `onPick` (a "Choisir" button per row) and `onCreate` ("Créer une identité").
import { api } from "../api.js";
import { dateField, field, h, recordsPage, reportError } from "../dom.js";
import { T, ageOn, frDate } from "../i18n.js";

const PAGE = 50;

function modeChoice() {
  return h("fieldset", { class: "choice" },
    h("legend", {}, T.searchMode),
    ...["exact", "approaching", "phonetic"].map((mode) =>
      h("label", { class: "option" },
        h("input", { type: "radio", name: "mode", value: mode, checked: mode === "exact" }),
        T.searchModes[mode])));
}

function sexChoice() {
  return h("div", { class: "field" },
    h("label", { for: "sex" }, T.sex),
    h("select", { id: "sex", name: "sex" },
      h("option", { value: "" }, T.anySex),
      ...Object.entries(T.sexes).map(([value, label]) => h("option", { value }, label))));
}

function resultRow(p, onPick) {
  return h("tr", { "data-patient": p.id },
    h("td", {}, h("strong", {}, p.display_name),
      p.used_name && p.used_name !== p.birth_name ? h("div", { class: "hint" }, T.bornName(p.birth_name)) : null),
    h("td", {}, `${frDate(p.birth_date)} (${ageOn(p.birth_date)} ans)`),
    h("td", { class: "num" }, `${p.match.toLocaleString("fr-FR", { minimumFractionDigits: 2 })} %`),
    h("td", { class: "mono" }, p.ins || "—"),
    h("td", {}, h("span", { class: `badge status-${p.identity_status}` }, T.identityStatus[p.identity_status])),
    onPick ? h("td", {}, h("button", { class: "button primary", type: "button", onclick: () => onPick(p) }, T.choose)) : null);
}

export function identitySearch({ onPick, onCreate, initial = {} } = {}) {
  const tbody = h("tbody");
  const summary = h("p", { class: "count", role: "status" });
  const more = h("button", { class: "button secondary", type: "button", hidden: true }, T.seeMore);
  let shown = 0;

  const form = h("form", { class: "card search-form", role: "search" },
    h("div", { class: "form-row" },
      field({ id: "name", label: T.name, autocomplete: "off", spellcheck: "false", value: initial.name }),
      field({ id: "first_name", label: T.firstName, autocomplete: "off", spellcheck: "false", value: initial.first_name }),
      dateField({ id: "birth_date", label: T.birthDate, value: initial.birth_date })),
    h("div", { class: "form-row" },
      field({ id: "ins", label: T.ins, inputmode: "numeric", autocomplete: "off" }),
      sexChoice(),
      modeChoice(),
      h("button", { class: "button primary", type: "submit" }, T.search)));

  async function load(append) {
    const params = new URLSearchParams({ mode: form.mode.value, limit: String(PAGE) });
    for (const name of ["name", "first_name", "birth_date", "ins", "sex"]) {
      const value = form[name].value.trim();
      if (value) params.set(name, value);
    }
    if (append) params.set("offset", String(shown));
    try {
      const { items, total } = await api("GET", `/patients?${params}`);
      if (!append) {
        tbody.replaceChildren();
        shown = 0;
      }
      tbody.append(...items.map((p) => resultRow(p, onPick)));
      shown += items.length;
      summary.textContent = total === 0 ? T.noResident : shown < total ? T.partial(shown, total) : T.results(total);
      more.hidden = shown >= total;
    } catch (error) {
      reportError(error);
    }
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load(false);
  });
  more.addEventListener("click", () => load(true));
  load(false);

  const c = T.residentColumns;
  const create = onCreate
    ? h("button", { class: "button secondary", type: "button", onclick: () => onCreate(searched()) }, T.createIdentity)
    : null;
  // What was typed, to prefill the creation form: the nurse never types a name twice.
  function searched() {
    return { name: form.name.value.trim(), first_name: form.first_name.value.trim(), birth_date: form.birth_date.value };
  }
  return recordsPage({
    title: T.residentsTitle, lead: T.residentsLead, form, summary, tbody, after: { more: h("div", { class: "actions-row" }, more, create) },
    headers: onPick ? [c.who, c.born, c.match, c.ins, c.status, ""] : [c.who, c.born, c.match, c.ins, c.status],
  });
}

export function residentsView() {
  return identitySearch();
}
