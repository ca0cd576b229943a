// The specialist invites a colleague (seed 001 §3.2; agent/api/routes/link_documents.py): into the
// dossier (they read it, join the call and may give their opinion) or into the call only. The
// invitation leaves by e-mail or SMS like the cart's own, with its one-time code.
import { h, toast } from "/static/js/dom.js";

function field(label, attrs) {
  const id = `colleague-${attrs.name}`;
  return h("div", { class: "field" }, h("label", { for: id }, label), h("input", { id, ...attrs }));
}

export function colleagueCard({ linkApi, call }) {
  const error = h("div", { class: "alert", role: "alert", hidden: true });
  const access = (value, label, checked) => h("label", { class: "check" },
    h("input", { type: "radio", name: "access", value, checked }), ` ${label}`);
  const form = h("form", { class: "form", novalidate: true },
    h("fieldset", { class: "choices-row" }, h("legend", {}, "Ce confrère est invité"),
      access("dossier", "au télédossier et à l'appel (il peut donner son avis)", true), access("call", "à l'appel seulement", false)),
    h("div", { class: "form-row" }, field("Nom", { name: "name", required: true, autocomplete: "off" }),
      field("Prénom", { name: "first_name", autocomplete: "off" })),
    h("div", { class: "form-row" }, field("Spécialité", { name: "specialty", autocomplete: "off" }),
      field("RPPS (11 chiffres, facultatif)", { name: "rpps", inputmode: "numeric", maxlength: 11, autocomplete: "off" })),
    h("div", { class: "form-row" }, field("E-mail", { name: "email", type: "email", autocomplete: "off" }),
      field("Téléphone portable", { name: "mobile", type: "tel", autocomplete: "off" })),
    error, h("button", { class: "button primary", type: "submit" }, "Envoyer l'invitation"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const data = Object.fromEntries(new FormData(form));
    for (const key of ["first_name", "specialty", "rpps", "email", "mobile"]) if (!data[key]) delete data[key];
    try {
      const invited = await call("POST", `${linkApi}/invitations`, data);
      toast(`Invitation envoyée à ${invited.name} (${invited.sent_to}).`);
      form.reset();
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
    }
  });
  return h("section", { class: "card colleague" }, h("h2", {}, "Inviter un confrère"), form);
}
