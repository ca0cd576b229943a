// Visio SMS (seed 000 §2.6, "Invitation téléphonique"): an immediate teleconsultation with a phone
// number or an email address alone, without a dossier.
import { api } from "../api.js";
import { field, h } from "../dom.js";
import { T, frTime } from "../i18n.js";

const V = () => T.visio;

export function visioView({ onBack, onCall }) {
  const alert = h("div", { class: "alert", role: "alert", hidden: true });
  const result = h("div", { class: "card visio-sent", hidden: true, role: "status" });
  const form = h("form", { class: "card form visio" },
    h("p", {}, V().lead),
    alert,
    h("div", { class: "form-row" },
      field({ id: "visio-mobile", label: V().mobile, type: "tel", inputmode: "tel", autocomplete: "off" }),
      field({ id: "visio-email", label: V().email, type: "email", autocomplete: "off" })),
    h("div", { class: "actions-row" },
      h("button", { class: "button secondary", type: "button", onclick: onBack }, T.wizard.back),
      h("button", { class: "button primary", type: "submit" }, V().send)));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    alert.hidden = true;
    const mobile = form.querySelector("#visio-mobile").value.trim();
    const email = form.querySelector("#visio-email").value.trim();
    if (!mobile && !email) {
      alert.textContent = V().needContact;
      alert.hidden = false;
      return;
    }
    try {
      const started = await api("POST", "/visio", { mobile: mobile || null, email: email || null });
      result.replaceChildren(h("h2", {}, V().sentTitle), h("p", {}, V().sent([mobile, email].filter(Boolean).join(" et "), frTime(new Date(started.room.closes_at)))),
        h("button", { id: "enter-room", class: "button primary", type: "button", onclick: () => onCall(started.room.id) }, T.dossier.enterRoom));
      result.hidden = false;
      form.reset();
    } catch (error) {
      if (error.status === 401 || error.code === "session_locked") return;
      alert.textContent = error.message;
      alert.hidden = false;
    }
  });
  return h("div", { class: "end-page" }, h("h1", {}, V().title), form, result);
}
