// "Créer une identité" (seed 000 §2.2.1, seed 004 "Créer l'identité d'un bénéficiaire"): the
// required fields of the identity rules, birthplace in France or abroad, contacts; a likely
// duplicate is shown with a way to take the existing identity instead.
import { api } from "../api.js";
import { field, h } from "../dom.js";
import { T, frDate } from "../i18n.js";

const F = () => T.identityForm;

export function identityForm({ values, onChange, onCancel, onCreated, onPickExisting }) {
  const v = values;
  v.birthplace = v.birthplace || "france";
  v.sex = v.sex || "";
  const alert = h("div", { class: "alert", role: "alert", hidden: true });
  const duplicates = h("div", { class: "duplicates", hidden: true });

  const input = (key, opts) => field({
    id: `new-${key}`, value: v[key] ?? "", autocomplete: "off", ...opts,
    oninput: (e) => { v[key] = e.target.value; onChange(); },
  });
  const radios = (key, legend, options, onpick) => h("fieldset", { class: "choice" },
    h("legend", {}, legend),
    ...options.map(([value, label]) => h("label", { class: "option" },
      h("input", { type: "radio", name: `new-${key}`, value, checked: v[key] === value,
        onchange: () => { v[key] = value; onChange(); if (onpick) onpick(value); } }),
      label)));

  const insee = input("birth_insee", { label: F().birthInsee, hint: F().birthInseeHint, inputmode: "numeric", maxlength: 5 });
  const country = input("birth_country", { label: F().birthCountry });
  const showPlace = (place) => { insee.hidden = place !== "france"; country.hidden = place !== "abroad"; };
  showPlace(v.birthplace);

  function body(confirmDuplicate) {
    const firstNames = [v.first_name, ...(v.other_first_names || "").split(/[,;]/)].map((s) => (s || "").trim()).filter(Boolean);
    const nz = (s) => (s || "").trim() || null;
    return {
      birth_name: (v.birth_name || "").trim(), used_name: nz(v.used_name), first_names: firstNames,
      birth_date: v.birth_date || null, sex: v.sex || null,
      birth_insee: v.birthplace === "france" ? nz(v.birth_insee) : null,
      birth_country: v.birthplace === "abroad" ? nz(v.birth_country) : null,
      ins: nz(v.ins), email: nz(v.email), mobile: nz(v.mobile),
      // Checked against an identity document: "validée"; otherwise "provisoire". Récupérée and
      // qualifiée need the INSi teleservice, which the cart does not call (yet).
      identity_status: v.document_checked ? "VALI" : "PROV",
      confirm_duplicate: confirmDuplicate,
    };
  }

  async function submit(confirmDuplicate) {
    alert.hidden = true;
    try {
      onCreated(await api("POST", "/patients", body(confirmDuplicate)));
    } catch (error) {
      if (error.code === "likely_duplicate") return showDuplicates(error);
      if (error.status === 401 || error.code === "session_locked") return;
      alert.textContent = error.message;
      alert.hidden = false;
      alert.scrollIntoView({ block: "nearest" });
    }
  }

  async function showDuplicates(error) {
    const found = await api("GET", `/patients?${new URLSearchParams({ name: v.birth_name, birth_date: v.birth_date, mode: "phonetic" })}`).catch(() => ({ items: [] }));
    const byId = new Map(found.items.map((p) => [p.id, p]));
    duplicates.replaceChildren(
      h("p", { class: "title" }, error.message),
      h("ul", { class: "list" }, (error.duplicates || []).map((d) => h("li", { class: "row" },
        h("span", { class: "who" }, `${d.display_name}, ${frDate(d.birth_date)}`),
        h("button", { class: "button primary", type: "button", onclick: () => onPickExisting(byId.get(d.id) || d) }, F().useThis)))),
      h("button", { class: "button secondary", type: "button", onclick: () => submit(true) }, F().createAnyway));
    duplicates.hidden = false;
    duplicates.scrollIntoView({ block: "nearest" });
  }

  const form = h("form", { class: "form identity-form", novalidate: true },
    h("p", { class: "hint" }, F().lead),
    alert,
    h("div", { class: "form-row" },
      input("birth_name", { label: F().birthName, required: true }),
      input("used_name", { label: F().usedName }),
      input("first_name", { label: F().firstName, required: true }),
      input("other_first_names", { label: F().otherFirstNames, hint: F().otherFirstNamesHint })),
    h("div", { class: "form-row" },
      input("birth_date", { label: F().birthDate, type: "date", required: true }),
      radios("sex", F().sex, Object.entries(T.sexes))),
    h("div", { class: "form-row" },
      radios("birthplace", F().birthplace, [["france", F().bornFrance], ["abroad", F().bornAbroad], ["unknown", F().bornUnknown]], showPlace),
      insee, country),
    h("div", { class: "form-row" },
      input("ins", { label: F().ins, hint: F().insHint, inputmode: "numeric" }),
      input("email", { label: F().email, type: "email" }),
      input("mobile", { label: F().mobile, type: "tel", inputmode: "tel" })),
    h("label", { class: "check" },
      h("input", { type: "checkbox", id: "new-document-checked", checked: Boolean(v.document_checked),
        onchange: (e) => { v.document_checked = e.target.checked; onChange(); } }),
      F().documentChecked),
    duplicates,
    h("div", { class: "actions-row" },
      h("button", { class: "button secondary", type: "button", onclick: onCancel }, F().cancel),
      h("button", { class: "button primary", type: "submit" }, F().submit)));
  form.addEventListener("submit", (event) => { event.preventDefault(); submit(false); });
  return form;
}
