// The directory of professionals (seed 000 §2.2.3.3), kept by the establishment's admins: the
// nurses pick from it in the wizard, so an invitation goes to an address that is known right; and
// from its MSSanté addresses when they send a dossier's PDFs by secure messaging (mssante_send.js).
import { api } from "../api.js";
import { field, h, reportError, toast } from "../dom.js";
import { T, frPhone } from "../i18n.js";

const A = () => T.directoryAdmin;
const FIELDS = [["name", "name"], ["first_name", "firstName"], ["specialty", "specialty"], ["rpps", "rpps"], ["email", "email"], ["mobile", "mobile"]];
const COLUMNS = 6;

// An error said where the admin looks (the agent's French); a lost session changes the screen itself.
function say(alert, error) {
  if (error.status === 401 || error.code === "session_locked") return;
  alert.textContent = error.message;
  alert.hidden = false;
}

function professionalRow(p, { reload, edit }) {
  const mssante = h("td", { class: "mssante-address" },
    p.mssante ? h("span", { class: "mono" }, p.mssante) : h("span", { class: "hint" }, A().noMssante),
    h("button", { class: "button secondary", type: "button", onclick: () => edit(p.id),
      "aria-label": (p.mssante ? A().mssanteEditFor : A().mssanteAddFor)(p.display_name) }, p.mssante ? A().mssanteEdit : A().mssanteAdd));
  return h("tr", { class: p.active ? "" : "inactive", "data-professional": p.id },
    h("td", {}, h("strong", {}, p.display_name)), h("td", {}, p.specialty), h("td", { class: "mono" }, p.rpps || "—"),
    h("td", {}, [p.email, p.mobile ? frPhone(p.mobile) : null].filter(Boolean).join(" · ") || "—"), mssante,
    h("td", {}, h("button", { class: "button secondary", type: "button", onclick: async () => {
      try {
        await api("PATCH", `/directory/${p.id}`, { active: !p.active });
        toast(p.active ? A().withdrawn : A().restored);
        reload();
      } catch (error) {
        reportError(error);
      }
    } }, p.active ? A().withdraw : A().restore)));
}

// Under a professional's row: their MSSanté address typed, checked by the agent as it checks every
// address it sends to (an email in [mssante] allowed_domains), its refusal said here; empty clears it.
function mssanteEditor(p, { done }) {
  const id = `mssante-${p.id}`;
  const alert = h("div", { class: "alert", role: "alert", hidden: true });
  const input = h("input", { id, type: "email", value: p.mssante || "", maxlength: 254, autocomplete: "off", "aria-describedby": `${id}-hint` });
  const form = h("form", { class: "form mssante-editor", novalidate: true },
    h("div", { class: "field" }, h("label", { for: id }, A().mssanteFor(p.display_name)),
      h("span", { class: "hint", id: `${id}-hint` }, A().mssanteHint), input),
    alert,
    h("div", { class: "actions-row" }, h("button", { class: "button primary", type: "submit" }, A().mssanteSave),
      h("button", { class: "button secondary", type: "button", onclick: () => done() }, A().cancel)));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    alert.hidden = true;
    const address = input.value.trim() || null;
    try {
      await api("PUT", `/directory/${p.id}/mssante`, { address });
      toast(address ? A().mssanteSaved(p.display_name) : A().mssanteCleared(p.display_name));
      done();
    } catch (error) {
      say(alert, error);
      input.focus();
    }
  });
  setTimeout(() => input.focus(), 0);
  return h("tr", { class: "editor-row" }, h("td", { colspan: COLUMNS }, form));
}

function addForm(reload) {
  const alert = h("div", { class: "alert", role: "alert", hidden: true });
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
      reload();
    } catch (error) {
      say(alert, error);
    }
  });
  return form;
}

export function directoryView() {
  const list = h("tbody");
  let editing = null;  // the professional whose MSSanté address is being typed
  async function load() {
    try {
      const { items } = await api("GET", "/directory?include_inactive=true");
      const edit = (id) => { editing = id; load(); };
      const done = () => { editing = null; load(); };
      list.replaceChildren(...items.flatMap((p) => [professionalRow(p, { reload: load, edit }),
        p.id === editing ? mssanteEditor(p, { done }) : null].filter(Boolean)));
    } catch (error) {
      reportError(error);
    }
  }
  load();
  return h("div", { class: "end-page directory-page" },
    h("h1", {}, A().title), h("p", { class: "hint" }, A().lead), addForm(load),
    h("section", { class: "card" }, h("table", { class: "records" },
      h("thead", {}, h("tr", {}, [A().who, A().colSpecialty, A().colRpps, A().contacts, A().colMssante, ""].map((t) => h("th", { scope: "col" }, t)))),
      list)));
}
