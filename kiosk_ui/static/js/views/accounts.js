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

  function showPassword(a) {
    const input = field({ id: "account-password", label: A().newPassword(a.display_name), type: "password", autocomplete: "new-password", minlength: 10 });
    const alert = h("div", { class: "alert", role: "alert", hidden: true });
    const form = h("form", { class: "form", novalidate: true }, h("h2", {}, A().passwordTitle), alert, input, h("p", { class: "hint" }, A().passwordHint),
      h("div", { class: "actions-row" },
        h("button", { class: "button secondary", type: "button", onclick: () => { panel.hidden = true; } }, A().cancel),
        h("button", { class: "button primary", type: "submit" }, A().save)));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await api("PUT", `/accounts/${encodeURIComponent(a.login)}/password`, { password: form.querySelector("#account-password").value });
        panel.hidden = true;
        toast(A().passwordSet(a.display_name));
        load();
      } catch (error) {
        if (error.status === 401 || error.code === "session_locked") return;
        alert.textContent = error.message;
        alert.hidden = false;
      }
    });
    panel.replaceChildren(form);
    panel.hidden = false;
    panel.scrollIntoView({ block: "start" });
    form.querySelector("input").focus();
  }

  // Where this person's login codes go when they ask for one by SMS or email.
  function showContacts(a) {
    const alert = h("div", { class: "alert", role: "alert", hidden: true });
    const form = h("form", { class: "form", novalidate: true }, h("h2", {}, A().contactsTitle(a.display_name)), alert,
      h("p", { class: "hint" }, A().contactsHint),
      h("div", { class: "form-row" },
        field({ id: "account-mobile", label: A().mobile, type: "tel", inputmode: "tel", autocomplete: "off", value: a.mobile || "" }),
        field({ id: "account-email", label: A().email, type: "email", autocomplete: "off", value: a.email || "" })),
      h("div", { class: "actions-row" },
        h("button", { class: "button secondary", type: "button", onclick: () => { panel.hidden = true; } }, A().cancel),
        h("button", { class: "button primary", type: "submit" }, A().save)));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const value = (id) => form.querySelector(id).value.trim() || null;
      try {
        await api("PUT", `/accounts/${encodeURIComponent(a.login)}/contacts`, { mobile: value("#account-mobile"), email: value("#account-email") });
        panel.hidden = true;
        toast(A().contactsSaved(a.display_name));
        load();
      } catch (error) {
        if (error.status === 401 || error.code === "session_locked") return;
        alert.textContent = error.message;
        alert.hidden = false;
      }
    });
    panel.replaceChildren(form);
    panel.hidden = false;
    panel.scrollIntoView({ block: "start" });
    form.querySelector("input").focus();
  }

  // The CPS card that logs this person in: its RPPS number, printed on the card (issue 11).
  function showCard(a) {
    const input = field({ id: "account-rpps", label: A().rppsLabel(a.display_name), inputmode: "numeric", autocomplete: "off",
      maxlength: 11, value: a.rpps || "", hint: A().rppsHint });
    const alert = h("div", { class: "alert", role: "alert", hidden: true });
    const send = async (rpps) => {
      try {
        await api("PUT", `/accounts/${encodeURIComponent(a.login)}/card`, { rpps });
        panel.hidden = true;
        toast(rpps ? A().cardLinkedToast(a.display_name) : A().cardUnlinkedToast(a.display_name));
        load();
      } catch (error) {
        if (error.status === 401 || error.code === "session_locked") return;
        alert.textContent = error.message;
        alert.hidden = false;
      }
    };
    const form = h("form", { class: "form", novalidate: true }, h("h2", {}, A().cardTitle), alert, input,
      h("div", { class: "actions-row" },
        h("button", { class: "button secondary", type: "button", onclick: () => { panel.hidden = true; } }, A().cancel),
        a.rpps ? h("button", { class: "button secondary danger", type: "button", onclick: twoTaps(A().cardUnlink, A().cardUnlinkConfirm, () => send(null)) }, A().cardUnlink) : null,
        h("button", { class: "button primary", type: "submit" }, A().save)));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const rpps = form.querySelector("#account-rpps").value.replace(/\s/g, "");
      if (!/^[0-9]{11}$/.test(rpps)) {
        alert.textContent = A().rppsFormat;
        alert.hidden = false;
        return;
      }
      send(rpps);
    });
    panel.replaceChildren(form);
    panel.hidden = false;
    panel.scrollIntoView({ block: "start" });
    form.querySelector("input").focus();
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
