// Résidents: one box searched as the nurse types (name, first name, birth date or INS, in any
// order), falling back by itself to approaching and same-sounding names when nothing begins as
// typed, so « Dupond » finds DUPONT and creating a second identity is never the only way on. The
// detailed search of seed 000 §2.2.1 (exact, approaching, phonetic, with the match rate) stays one
// tap away. The wizard's first step reuses it with `onPick` ("Choisir"); the Résidents page with
// `onOpen` (the resident's page: their consultations, « Créer une téléconsultation »).
import { api } from "../api.js";
import { dateField, field, h, recordsPage, reportError } from "../dom.js";
import { T, ageOn, frDate } from "../i18n.js";

const PAGE = 50;
const TYPING_PAUSE_MS = 250;
const S = () => T.residentSearch;

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

// The whole row answers a finger; its button says what the tap does.
function resultRow(p, action) {
  return h("tr", { "data-patient": p.id, class: "clickable", onclick: () => action.run(p) },
    h("td", {}, h("strong", {}, p.display_name),
      p.used_name && p.used_name !== p.birth_name ? h("div", { class: "hint" }, T.bornName(p.birth_name)) : null),
    h("td", {}, `${frDate(p.birth_date)} (${ageOn(p.birth_date)} ans)`),
    h("td", { class: "num" }, `${p.match.toLocaleString("fr-FR", { minimumFractionDigits: 2 })} %`),
    h("td", { class: "mono" }, p.ins || "—"),
    h("td", {}, h("span", { class: `badge status-${p.identity_status}` }, T.identityStatus[p.identity_status])),
    h("td", {}, h("button", { class: `button ${action.primary ? "primary" : "secondary"}`, type: "button",
      onclick: (event) => { event.stopPropagation(); action.run(p); } }, action.label)));
}

// The detailed search, folded under the box: every criterion and the three modes.
function detailedForm(initial) {
  return h("form", { class: "search-form detailed", role: "search" },
    h("div", { class: "form-row" },
      field({ id: "name", label: T.name, autocomplete: "off", spellcheck: "false", value: initial.name }),
      field({ id: "first_name", label: T.firstName, autocomplete: "off", spellcheck: "false", value: initial.first_name }),
      dateField({ id: "birth_date", label: T.birthDate, value: initial.birth_date })),
    h("div", { class: "form-row" },
      field({ id: "ins", label: T.ins, inputmode: "numeric", autocomplete: "off" }),
      sexChoice(),
      modeChoice(),
      h("button", { class: "button primary", type: "submit" }, T.search)));
}

// "dupont marie 05/04/1937" -> what the creation form starts from: the nurse never types it twice.
function typedIdentity(text) {
  const words = text.split(/[\s,;]+/).filter((w) => w && !/\d/.test(w));
  const date = /(\d{2})\/(\d{2})\/(\d{4})/.exec(text);
  return { name: words[0] || "", first_name: words.slice(1).join(" "), birth_date: date ? `${date[3]}-${date[2]}-${date[1]}` : "" };
}

export function identitySearch({ onPick, onOpen, onCreate, initial = {}, onTyped = () => {} } = {}) {
  const tbody = h("tbody");
  const summary = h("p", { class: "count", role: "status" });
  const help = h("div", { class: "search-help", hidden: true });
  const more = h("button", { class: "button secondary", type: "button", hidden: true }, T.seeMore);
  const action = onPick ? { label: T.choose, run: onPick, primary: true } : { label: S().open, run: onOpen || (() => {}) };
  let shown = 0;
  let asked = 0;
  let timer = null;
  let last = { params: null, text: "" };

  const box = h("input", { id: "resident-q", type: "search", class: "search-box", autocomplete: "off", spellcheck: "false",
    enterkeyhint: "search", placeholder: S().placeholder, "aria-describedby": "resident-q-hint", value: initial.q || "" });
  const quick = h("form", { class: "card quick-search", role: "search" },
    h("label", { for: "resident-q" }, S().label),
    box,
    h("span", { class: "hint", id: "resident-q-hint" }, S().hint));
  const detailed = detailedForm(initial);
  const fold = h("details", { class: "card detailed-search", open: Boolean(initial.name || initial.first_name || initial.birth_date) },
    h("summary", {}, S().detailed), detailed);

  // Only the answer to the latest search fills the table: typing fast sends several.
  async function load(params, text, append = false) {
    const mine = ++asked;
    params.set("limit", String(PAGE));
    if (append) params.set("offset", String(shown));
    try {
      const { items, total, found_by: foundBy } = await api("GET", `/patients?${params}`);
      if (mine !== asked) return;
      if (!append) { tbody.replaceChildren(); shown = 0; }
      tbody.append(...items.map((p) => resultRow(p, action)));
      shown += items.length;
      last = { params, text };
      summary.textContent = describe(total, foundBy, text);
      more.hidden = shown >= total;
      showHelp(total === 0 && Boolean(text || params.has("name")));
    } catch (error) {
      reportError(error);
    }
  }

  function describe(total, foundBy, text) {
    if (total === 0) return text ? S().nobody(text) : T.noResident;
    const count = shown < total ? T.partial(shown, total) : T.results(total);
    return foundBy === "approaching" ? `${S().approaching(text)} ${count}` : count;
  }

  // Nobody: what to try before creating an identity (whose button stays under the table).
  function showHelp(nobody) {
    help.hidden = !nobody;
    if (!nobody) return;
    help.replaceChildren(
      h("p", {}, onCreate ? `${S().tryNext} ${S().createLast}` : S().tryNext),
      fold.open ? null : h("button", { class: "button secondary", type: "button",
        onclick: () => { fold.open = true; help.hidden = true; detailed.name.focus(); } }, S().detailedShort));
  }

  function quickSearch() {
    const text = box.value.trim();
    onTyped({ q: box.value });
    load(new URLSearchParams(text ? { q: text } : {}), text);
  }
  box.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(quickSearch, TYPING_PAUSE_MS);
  });
  quick.addEventListener("submit", (event) => { event.preventDefault(); clearTimeout(timer); quickSearch(); box.blur(); });

  function detailedSearch() {
    box.value = "";
    const params = new URLSearchParams({ mode: detailed.mode.value });
    for (const name of ["name", "first_name", "birth_date", "ins", "sex"]) {
      const value = detailed[name].value.trim();
      if (value) params.set(name, value);
    }
    onTyped({ q: "", name: detailed.name.value.trim(), first_name: detailed.first_name.value.trim(), birth_date: detailed.birth_date.value });
    load(params, "");
  }
  detailed.addEventListener("submit", (event) => { event.preventDefault(); detailedSearch(); });
  more.addEventListener("click", () => load(new URLSearchParams(last.params), last.text, true));

  // What was typed, to prefill the creation form.
  function searched() {
    if (box.value.trim()) return typedIdentity(box.value.trim());
    return { name: detailed.name.value.trim(), first_name: detailed.first_name.value.trim(), birth_date: detailed.birth_date.value };
  }
  const create = onCreate
    ? h("button", { class: "button secondary", type: "button", onclick: () => onCreate(searched()) }, T.createIdentity)
    : null;

  if (initial.name || initial.first_name || initial.birth_date) detailedSearch();
  else quickSearch();

  const c = T.residentColumns;
  return recordsPage({
    title: T.residentsTitle, lead: T.residentsLead, form: h("div", { class: "search-area" }, quick, fold), summary, tbody,
    after: { note: help, more: h("div", { class: "actions-row" }, more, create) },
    headers: [c.who, c.born, c.match, c.ins, c.status, ""],
  });
}

export function residentsView({ onOpen }) {
  return identitySearch({ onOpen });
}
