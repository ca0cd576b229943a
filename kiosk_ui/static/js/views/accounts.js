// The staff accounts, for the establishment's admins (hardening issue, item 8): who may log in at
// the cart, and what to do when a badge or a phone is lost or someone leaves: end their sessions,
// disable the account, give a new password or a new one-time-code secret (its QR code shown once,
// for the person to scan there and then). Each act is audited under the admin's name.
import { api } from "../api.js";
import { field, h, reportError, toast, twoTaps } from "../dom.js";
import { T } from "../i18n.js";

const A = () => T.accounts;

export function accountsView({ session }) {
  const list = h("tbody");
  const panel = h("section", { class: "card account-panel", hidden: true, "aria-live": "polite" });
  const me = session.user.login;

  async function load() {
    try {
      const { items } = await api("GET", "/accounts");
      list.replaceChildren(...items.map((a) => row(a)));
    } catch (error) { reportError(error); }
  }

  // One act on an account, said in a toast; the list shows its outcome.
  const act = (text, request) => async () => {
    try {
      await request();
      toast(text);
      load();
    } catch (error) { reportError(error); }
  };

  function row(a) {
    const base = `/accounts/${encodeURIComponent(a.login)}`;
    const actions = [
      a.sessions ? h("button", { class: "button secondary", type: "button", onclick: act(A().loggedOut(a.display_name), () => api("DELETE", `${base}/sessions`)) }, A().logout) : null,
      h("button", { class: "button secondary", type: "button", onclick: () => showPassword(a) }, A().password),
      h("button", { class: "button secondary", type: "button", onclick: () => showCard(a) }, a.rpps ? A().cardChange : A().cardLink),
      h("button", { class: "button secondary", type: "button", onclick: () => showContacts(a) }, A().contacts),
      h("button", { class: "button secondary", type: "button", onclick: twoTaps(A().otp, A().otpConfirm, () => newOtp(a)) }, A().otp),
      a.login === me ? null : a.disabled
        ? h("button", { class: "button secondary", type: "button", onclick: act(A().enabled(a.display_name), () => api("PATCH", base, { disabled: false })) }, A().enable)
        : h("button", { class: "button secondary danger", type: "button",
          onclick: twoTaps(A().disable, A().disableConfirm, act(A().disabled(a.display_name), () => api("PATCH", base, { disabled: true }))) }, A().disable),
    ];
    return h("tr", { class: a.disabled ? "inactive" : "", "data-account": a.login },
      h("td", {}, h("strong", {}, a.display_name), h("span", { class: "hint mono" }, ` ${a.login}`)),
      h("td", {}, a.role_label),
      h("td", {}, a.disabled ? A().stateDisabled : A().stateActive, a.sessions ? ` · ${A().sessions(a.sessions)}` : "",
        a.rpps ? h("div", { class: "hint" }, A().cardLinked(a.rpps)) : null,
        h("div", { class: "hint" }, A().factors(a.second_factors))),
      h("td", {}, h("div", { class: "member-actions" }, actions)));
  }

  // One act on an account in the panel above the list: its fields, « Annuler » / « Enregistrer »,
  // and what the agent refuses said in the panel. `read(form)` returns the request's body, or a
  // French message when what was typed cannot be sent; `extra` is a button beside « Enregistrer ».
  function panelForm({ title, body, path, read, done, extra = null }) {
    const alert = h("div", { class: "alert", role: "alert", hidden: true });
    const say = (message) => { alert.textContent = message; alert.hidden = false; };
    const send = async (request, message) => {
      try {
        await api("PUT", path, request);
        panel.hidden = true;
        toast(message);
        load();
      } catch (error) {
        if (error.status !== 401 && error.code !== "session_locked") say(error.message);
      }
    };
    const form = h("form", { class: "form", novalidate: true }, h("h2", {}, title), alert, ...body,
      h("div", { class: "actions-row" },
        h("button", { class: "button secondary", type: "button", onclick: () => { panel.hidden = true; } }, A().cancel),
        extra ? extra(send) : null,
        h("button", { class: "button primary", type: "submit" }, A().save)));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const request = read(form);
      if (typeof request === "string") say(request);
      else send(request, done);
    });
    panel.replaceChildren(form);
    panel.hidden = false;
    panel.scrollIntoView({ block: "start" });
    form.querySelector("input").focus();
  }

  const pathOf = (a, what) => `/accounts/${encodeURIComponent(a.login)}/${what}`;

  function showPassword(a) {
    panelForm({
      title: A().passwordTitle, path: pathOf(a, "password"), done: A().passwordSet(a.display_name),
      body: [field({ id: "account-password", label: A().newPassword(a.display_name), type: "password", autocomplete: "new-password", minlength: 10 }),
        h("p", { class: "hint" }, A().passwordHint)],
      read: (form) => ({ password: form.querySelector("#account-password").value }),
    });
  }

  // Where this person's login codes go when they ask for one by SMS or email.
  function showContacts(a) {
    const value = (form, id) => form.querySelector(id).value.trim() || null;
    panelForm({
      title: A().contactsTitle(a.display_name), path: pathOf(a, "contacts"), done: A().contactsSaved(a.display_name),
      body: [h("p", { class: "hint" }, A().contactsHint),
        h("div", { class: "form-row" },
          field({ id: "account-mobile", label: A().mobile, type: "tel", inputmode: "tel", autocomplete: "off", value: a.mobile || "" }),
          field({ id: "account-email", label: A().email, type: "email", autocomplete: "off", value: a.email || "" }))],
      read: (form) => ({ mobile: value(form, "#account-mobile"), email: value(form, "#account-email") }),
    });
  }

  // The CPS card that logs this person in: its RPPS number, printed on the card (issue 11).
  function showCard(a) {
    panelForm({
      title: A().cardTitle, path: pathOf(a, "card"), done: A().cardLinkedToast(a.display_name),
      body: [field({ id: "account-rpps", label: A().rppsLabel(a.display_name), inputmode: "numeric", autocomplete: "off",
        maxlength: 11, value: a.rpps || "", hint: A().rppsHint })],
      read: (form) => {
        const rpps = form.querySelector("#account-rpps").value.replace(/\s/g, "");
        return /^[0-9]{11}$/.test(rpps) ? { rpps } : A().rppsFormat;
      },
      extra: a.rpps ? (send) => h("button", { class: "button secondary danger", type: "button",
        onclick: twoTaps(A().cardUnlink, A().cardUnlinkConfirm, () => send({ rpps: null }, A().cardUnlinkedToast(a.display_name))) }, A().cardUnlink) : null,
    });
  }

  async function newOtp(a) {
    try {
      const enrolled = await api("POST", `/accounts/${encodeURIComponent(a.login)}/otp`);
      panel.replaceChildren(h("h2", {}, A().otpTitle(a.display_name)), h("p", {}, A().otpLead),
        h("img", { class: "otp-qr", src: enrolled.qr_svg, alt: A().otpQrAlt }),
        h("p", {}, A().otpSecret, h("strong", { class: "mono otp-secret" }, enrolled.secret.replace(/(.{4})/g, "$1 ").trim())),
        h("button", { class: "button primary", type: "button", onclick: () => { panel.replaceChildren(); panel.hidden = true; } }, A().otpDone));
      panel.hidden = false;
      panel.scrollIntoView({ block: "start" });
      load();
    } catch (error) { reportError(error); }
  }

  load();
  return h("div", { class: "accounts-page" },
    h("h1", {}, A().title), h("p", { class: "hint" }, A().lead), panel,
    h("section", { class: "card" }, h("table", { class: "records" },
      h("thead", {}, h("tr", {}, [A().who, A().role, A().state, ""].map((t) => h("th", { scope: "col" }, t)))), list)));
}
