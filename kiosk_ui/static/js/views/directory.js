// The directory of professionals (seed 000 §2.2.3.3), kept by the establishment's admins: the
// nurses pick from it in the wizard, so an invitation goes to an address that is known right.
import { api } from "../api.js";
import { field, h, reportError, toast } from "../dom.js";
import { T, frPhone } from "../i18n.js";

const A = () => T.directoryAdmin;
const FIELDS = [["name", "name"], ["first_name", "firstName"], ["specialty", "specialty"], ["rpps", "rpps"], ["email", "email"], ["mobile", "mobile"]];

export function directoryView() {
  const list = h("tbody");
  const alert = h("div", { class: "alert", role: "alert", hidden: true });
  async function load() {
    try {
      const { items } = await api("GET", "/directory?include_inactive=true");
      list.replaceChildren(...items.map((p) => h("tr", { class: p.active ? "" : "inactive" },
        h("td", {}, h("strong", {}, p.display_name)), h("td", {}, p.specialty), h("td", { class: "mono" }, p.rpps || "—"),
        h("td", {}, [p.email, p.mobile ? frPhone(p.mobile) : null].filter(Boolean).join(" · ") || "—"),
        h("td", {}, h("button", { class: "button secondary", type: "button", onclick: async () => {
          try {
            await api("PATCH", `/directory/${p.id}`, { active: !p.active });
            toast(p.active ? A().withdrawn : A().restored);
            load();
          } catch (error) {
            reportError(error);
          }
        } }, p.active ? A().withdraw : A().restore)))));
    } catch (error) {
      reportError(error);
    }
  }
  const form = h("form", { class: "card form" },
    h("h2", {}, A().addTitle), alert,
    h("div", { class: "form-row" }, FIELDS.slice(0, 3).map(([id, label]) => field({ id: `pro-${id}`, label: A()[label], autocomplete: "off" }))),
    h("div", { class: "form-row" }, FIELDS.slice(3).map(([id, label]) => field({ id: `pro-${id}`, label: A()[label], autocomplete: "off" }))),
    h("div", {}, h("button", { class: "button primary", type: "submit" }, A().add)));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    alert.hidden = true;
    const body = Object.fromEntries(FIELDS.map(([id]) => [id, form.querySelector(`#pro-${id}`).value.trim() || null]));
    try {
      await api("POST", "/directory", body);
      toast(A().added);
      form.reset();
      load();
    } catch (error) {
      if (error.status === 401 || error.code === "session_locked") return;
      alert.textContent = error.message;
      alert.hidden = false;
    }
  });
  load();
  return h("div", { class: "end-page directory-page" },
    h("h1", {}, A().title), h("p", { class: "hint" }, A().lead), form,
    h("section", { class: "card" }, h("table", { class: "records" },
      h("thead", {}, h("tr", {}, [A().who, A().colSpecialty, A().colRpps, A().contacts, ""].map((t) => h("th", { scope: "col" }, t)))), list)));
}
