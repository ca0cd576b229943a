// What every part of the technician's page shares: its API with the session's CSRF token, and the
// pieces of its forms.
import { h } from "/static/js/dom.js";
import { jsonRequest } from "/static/js/json_request.js";

let csrf = null;

export function setCsrf(token) {
  csrf = token;
}

export function call(method, path, body) {
  return jsonRequest(method, `/api/v1${path}`, body, csrf,
                     "Le chariot ne répond pas. Vérifiez que vous êtes sur le même réseau, puis réessayez.");
}

export const stamp = (iso) => (iso ? new Intl.DateTimeFormat("fr-FR", { dateStyle: "short", timeStyle: "medium" }).format(new Date(iso)) : "—");

export function field(label, attrs) {
  const id = `f-${attrs.name}`;
  return h("div", { class: "field" }, h("label", { for: id }, label), h("input", { id, ...attrs }));
}

export function alertBox() {
  return h("div", { class: "alert error", role: "alert", hidden: true });
}

export function say(box, error) {
  box.textContent = error.message;
  box.hidden = false;
}
