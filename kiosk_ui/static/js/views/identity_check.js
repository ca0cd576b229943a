// The identity check (seed 000 §2.2.1, "Identité"): what the cart knows of a resident, read with
// them before a consultation, and « Modifier » to correct it. A retrieved or qualified identity's
// strict traits come from the INSi teleservice: the form shows them without letting them change.
import { api } from "../api.js";
import { h, reportError } from "../dom.js";
import { T, ageOn, frDate, frPhone } from "../i18n.js";
import { identityForm } from "./identity_form.js";

const W = () => T.wizard;
const I = () => T.identityCheck;

// `onSaved(patient)` hears each saved correction; `hint` is said under the card.
export function identityCheck({ patientId, hint = null, onSaved = () => {} }) {
  const box = h("div", { class: "identity-card" }, h("p", { class: "hint" }, W().loading));
  const show = (p) => box.replaceChildren(...card(p, hint, () => edit(p)));
  const edit = (p) => box.replaceChildren(identityForm({
    patient: p, values: {}, onChange: () => {}, onCancel: () => show(p),
    onSaved: (updated) => { show(updated); onSaved(updated); },
  }));
  api("GET", `/patients/${encodeURIComponent(patientId)}`).then(show)
    .catch((error) => { reportError(error); box.replaceChildren(h("p", {}, error.message)); });
  return box;
}

function card(p, hint, onEdit) {
  const born = p.birth_insee ? W().bornInFrance(p.birth_place, p.birth_insee) : p.birth_country ? W().bornAbroad(p.birth_country) : null;
  const address = [p.address_line, [p.postal_code, p.city].filter(Boolean).join(" ")].filter(Boolean).join(", ");
  return [
    h("div", { class: "identity-head" },
      h("strong", { class: "identity-name" }, [p.civility, p.display_name].filter(Boolean).join(" ")),
      h("span", { class: `badge status-${p.identity_status}` }, T.identityStatus[p.identity_status]),
      h("button", { class: "button secondary", type: "button", "data-edit-identity": "", onclick: onEdit }, I().edit)),
    h("dl", { class: "facts" },
      row(I().civility, p.civility),
      row(W().birthName, p.birth_name),
      row(W().usedName, p.used_name),
      row(W().firstNames, p.first_names.join(", ")),
      row(T.birthDate, `${frDate(p.birth_date)} (${ageOn(p.birth_date)} ans)`),
      row(T.sex, T.sexes[p.sex]),
      row(W().birthPlace, born),
      row(T.ins, p.ins),
      row(I().address, address),
      row(W().email, p.email),
      row(W().mobile, p.mobile ? frPhone(p.mobile) : null)),
    hint ? h("p", { class: "hint" }, hint) : null,
  ].filter(Boolean);
}

function row(label, value) {
  return [h("dt", {}, label), h("dd", {}, value || "—")];
}

// The identity check on a page of its own, reached from a dossier (« Identité et coordonnées »):
// a resident's contacts fixed at the cart, for instance before « Envoyer au résident ».
export function identityPage({ patientId, onBack }) {
  return h("div", { class: "identity-page" },
    h("div", { class: "page-head" },
      h("button", { class: "button secondary", type: "button", onclick: onBack }, W().back),
      h("h1", {}, I().title)),
    h("section", { class: "card" }, identityCheck({ patientId })));
}
