// "Créer une identité" (seed 000 §2.2.1, seed 004 "Créer l'identité d'un bénéficiaire"): the
// required fields of the identity rules, birthplace in France or abroad, address, contacts; a
// likely duplicate is shown with a way to take the existing identity instead. Given a `patient`,
// the same form corrects that identity (« Modifier » of the identity check): only what changed is
// sent, and a retrieved or qualified identity's strict traits are shown but cannot change.
import { api } from "../api.js";
import { field, frenchDateInput, h } from "../dom.js";
import { T, ageOn, frDate, frLongDate } from "../i18n.js";
import { communePicker } from "./commune_picker.js";

const F = () => T.identityForm;
const REQUIRED = ["birth_name", "first_name", "birth_date", "sex"];
const FROM_INSI = ["RECUP", "QUAL"]; // their strict traits are the teleservice's
const STRICT = ["birth_name", "first_name", "other_first_names", "birth_date", "sex", "birthplace", "birth_insee", "birth_country", "ins"];

export function identityForm({ values, patient = null, onChange, onCancel, onCreated, onSaved, onPickExisting }) {
  const v = patient ? Object.assign(values, valuesOf(patient)) : values;
  const initial = patient ? editBody({ ...v }, patient) : null;
  v.birthplace = v.birthplace || "france";
  v.sex = v.sex || "";
  const locked = Boolean(patient && FROM_INSI.includes(patient.identity_status));
  const alert = h("div", { class: "alert", role: "alert", hidden: true });
  const duplicates = h("div", { class: "duplicates", hidden: true });
  const { input, radios, edited } = fieldMakers(v, alert, onChange, locked ? STRICT : []);
  const place = birthplaceFields(input, v, edited, locked);
  const birthDate = birthDateField(input, v);
  const form = identityLayout({ v, patient, locked, onChange, onCancel, alert, duplicates, input, radios, birthDate, place });

  async function submit(confirmDuplicate) {
    alert.hidden = true;
    const empty = markMissing(form, v);
    if (empty.length) {  // said in the nurse's words, before asking the agent
      say(alert, (patient ? F().missingEdit : F().missing)(empty.map((key) => F().required[key])));
      return;
    }
    if (v.birthplace === "france" && (v.birth_commune || "").trim() && !v.birth_insee) {  // typed, never picked
      form.querySelector("#new-birth_commune").setAttribute("aria-invalid", "true");
      say(alert, F().communeNotChosen);
      return;
    }
    try {
      if (!patient) onCreated(await api("POST", "/patients", identityBody(v, confirmDuplicate)));
      else {
        const body = editBody(v, patient);
        const changed = Object.fromEntries(Object.entries(body).filter(([k, value]) => JSON.stringify(value) !== JSON.stringify(initial[k])));
        onSaved(Object.keys(changed).length ? await api("PATCH", `/patients/${encodeURIComponent(patient.id)}`, changed) : patient);
      }
    } catch (error) {
      if (error.code === "likely_duplicate") return showDuplicates(error);
      if (error.status === 401 || error.code === "session_locked") return;
      say(alert, error.message);
    }
  }

  // The 409 names the look-alikes; should it not (an older agent), a phonetic search finds them again.
  async function showDuplicates(error) {
    const people = error.duplicates?.length ? error.duplicates : await searchLookAlikes(v);
    duplicates.replaceChildren(...duplicatesContent(people, onPickExisting, () => submit(true)));
    duplicates.hidden = false;
    duplicates.scrollIntoView({ block: "nearest" });
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); submit(false); });
  return form;
}

// The form's inputs and radio groups: every edit lands in `v`, hides the alert (what it said is
// being corrected) and tells the wizard, which saves the draft.
function fieldMakers(v, alert, onChange, readOnly) {
  const edited = (target) => {
    alert.hidden = true;
    target.removeAttribute("aria-invalid");
    onChange();
  };
  const input = (key, opts) => field({
    id: `new-${key}`, value: v[key] ?? "", autocomplete: "off", ...opts, readonly: readOnly.includes(key) || null,
    oninput: (e) => { v[key] = e.target.value; edited(e.target); },
  });
  const radios = (key, legend, options, onpick) => h("fieldset", { class: `choice ${key}`, disabled: readOnly.includes(key) || null },
    h("legend", {}, legend),
    ...options.map(([value, label]) => h("label", { class: "option" },
      h("input", { type: "radio", name: `new-${key}`, value, checked: v[key] === value,
        onchange: (e) => { v[key] = value; edited(e.target.closest("fieldset")); if (onpick) onpick(value); } }),
      label)));
  return { input, radios, edited };
}

// The commune (its INSEE code) for a birth in France, the country for one abroad, neither when it
// is unknown.
function birthplaceFields(input, v, edited, locked) {
  const insee = communePicker(v, edited, locked);
  const country = input("birth_country", { label: F().birthCountry });
  const showPlace = (place) => { insee.hidden = place !== "france"; country.hidden = place !== "abroad"; };
  showPlace(v.birthplace);
  return { insee, country, showPlace };
}

// The birth date in words under its field: "04/05/1937" reads as 4 May or 5 April depending on
// the browser's locale, "5 avril 1937 (89 ans)" only one way.
function birthDateField(input, v) {
  const birthDate = input("birth_date", { label: F().birthDate, required: true });
  frenchDateInput(birthDate.querySelector("input"));
  const bornSaid = h("span", { class: "said", role: "status" });
  const sayBorn = () => {
    bornSaid.textContent = /^\d{4}-\d{2}-\d{2}$/.test(v.birth_date || "") ? F().bornSaid(frLongDate(v.birth_date), ageOn(v.birth_date)) : "";
  };
  birthDate.classList.add("birth-date");
  birthDate.append(bornSaid);
  birthDate.querySelector("input").addEventListener("input", sayBorn);
  sayBorn();
  return birthDate;
}

function identityLayout({ v, patient, locked, onChange, onCancel, alert, duplicates, input, radios, birthDate, place }) {
  // "Vérifiée sur une pièce d'identité" moves a provisional identity to "validée"; a retrieved or
  // qualified one is beyond it (the teleservice checked it).
  const checked = locked ? null : h("label", { class: "check" },
    h("input", { type: "checkbox", id: "new-document-checked", checked: Boolean(v.document_checked),
      onchange: (e) => { v.document_checked = e.target.checked; onChange(); } }),
    F().documentChecked);
  return h("form", { class: "form identity-form", novalidate: true },
    h("p", { class: "hint" }, patient ? F().leadEdit : F().lead),
    locked ? h("p", { class: "notice locked-traits" }, F().lockedTraits) : null,
    alert,
    h("div", { class: "form-row" },
      radios("civility", F().civility, [["Mme", "Madame"], ["M.", "Monsieur"]])),
    h("div", { class: "form-row" },
      input("birth_name", { label: F().birthName, required: true }),
      input("used_name", { label: F().usedName }),
      input("first_name", { label: F().firstName, required: true }),
      input("other_first_names", { label: F().otherFirstNames, hint: F().otherFirstNamesHint })),
    h("div", { class: "form-row top" },
      birthDate,
      radios("sex", F().sex, Object.entries(T.sexes))),
    h("div", { class: "form-row" },
      radios("birthplace", F().birthplace, [["france", F().bornFrance], ["abroad", F().bornAbroad], ["unknown", F().bornUnknown]], place.showPlace),
      place.insee, place.country),
    h("div", { class: "form-row" },
      input("address_line", { label: F().addressLine, autocomplete: "off" }),
      input("postal_code", { label: F().postalCode, inputmode: "numeric", maxlength: 5 }),
      input("city", { label: F().city })),
    h("div", { class: "form-row" },
      input("ins", { label: F().ins, hint: F().insHint, inputmode: "numeric" }),
      input("email", { label: F().email, type: "email" }),
      input("mobile", { label: F().mobile, type: "tel", inputmode: "tel" })),
    checked,
    duplicates,
    h("div", { class: "actions-row" },
      h("button", { class: "button secondary", type: "button", onclick: onCancel }, F().cancel),
      h("button", { class: "button primary", type: "submit" }, patient ? F().save : F().submit)));
}

// The alert says `message` where the nurse sees it.
function say(alert, message) {
  alert.textContent = message;
  alert.hidden = false;
  alert.scrollIntoView({ block: "nearest" });
}

// Marks the required fields left empty (red border) and returns their keys.
function markMissing(form, v) {
  const empty = REQUIRED.filter((key) => !String(v[key] || "").trim());
  for (const key of empty) {
    const target = key === "sex" ? form.querySelector("fieldset.sex") : form.querySelector(`#new-${key}`);
    target?.setAttribute("aria-invalid", "true");
  }
  return empty;
}

// What was typed, as the API names it (both POST and PATCH).
function typedIdentity(v) {
  const firstNames = [v.first_name, ...(v.other_first_names || "").split(/[,;]/)].map((s) => (s || "").trim()).filter(Boolean);
  const nz = (s) => (s || "").trim() || null;
  return {
    civility: v.civility || null, birth_name: (v.birth_name || "").trim(), used_name: nz(v.used_name), first_names: firstNames,
    birth_date: v.birth_date || null, sex: v.sex || null,
    birth_insee: v.birthplace === "france" ? nz(v.birth_insee) : null,
    birth_country: v.birthplace === "abroad" ? nz(v.birth_country) : null,
    address_line: nz(v.address_line), postal_code: nz(v.postal_code), city: nz(v.city),
    ins: nz(v.ins), email: nz(v.email), mobile: nz(v.mobile),
  };
}

// POST /patients's body. Checked against an identity document: "validée"; otherwise
// "provisoire". Récupérée and qualifiée need the INSi teleservice, which the cart does not call (yet).
function identityBody(v, confirmDuplicate) {
  return { ...typedIdentity(v), identity_status: v.document_checked ? "VALI" : "PROV", confirm_duplicate: confirmDuplicate };
}

// PATCH's candidates: the typed identity; the status only moves between provisional and
// validated here; the INS, which the API shows only when qualified, is sent only if typed.
function editBody(v, patient) {
  const body = typedIdentity(v);
  if (!FROM_INSI.includes(patient.identity_status)) body.identity_status = v.document_checked ? "VALI" : "PROV";
  if (!body.ins) delete body.ins;
  return body;
}

// The form's values from a stored identity.
function valuesOf(p) {
  return {
    civility: p.civility || "", birth_name: p.birth_name, used_name: p.used_name || "", first_name: p.first_names[0],
    other_first_names: p.first_names.slice(1).join(", "), birth_date: p.birth_date, sex: p.sex,
    birthplace: p.birth_insee ? "france" : p.birth_country ? "abroad" : "unknown", birth_insee: p.birth_insee || "",
    birth_place: p.birth_place || null,
    birth_country: p.birth_country || "", address_line: p.address_line || "", postal_code: p.postal_code || "", city: p.city || "",
    ins: p.ins || "", email: p.email || "", mobile: p.mobile || "", document_checked: p.identity_status === "VALI",
  };
}

// A phonetic search on the names and birth date; nobody found when the search itself fails.
async function searchLookAlikes(v) {
  const params = new URLSearchParams({ name: (v.birth_name || "").trim(), birth_date: v.birth_date, mode: "phonetic" });
  if ((v.first_name || "").trim()) params.set("first_name", v.first_name.trim());
  return (await api("GET", `/patients?${params}`).catch(() => ({ items: [] }))).items;
}

// The look-alikes, each with a button to take it, and a button to create the identity anyway.
function duplicatesContent(people, onPickExisting, onCreateAnyway) {
  return [
    h("p", { class: "title" }, people.length ? F().duplicateTitle : F().duplicateSearchFailed),
    people.length ? h("ul", { class: "list" }, people.map((p) => h("li", { class: "row duplicate" },
      h("span", { class: "who" }, p.display_name,
        h("span", { class: "meta" }, T.bornOn(p.sex, frDate(p.birth_date), ageOn(p.birth_date)))),
      p.identity_status ? h("span", { class: `badge status-${p.identity_status}` }, T.identityStatus[p.identity_status]) : null,
      h("button", { class: "button primary", type: "button", onclick: () => onPickExisting(p) }, F().useThis)))) : null,
    h("div", {}, h("button", { class: "button secondary", type: "button", onclick: onCreateAnyway }, F().createAnyway)),
  ].filter(Boolean); // replaceChildren would write a null out as the text "null"
}
