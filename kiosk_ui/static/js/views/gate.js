// The login screen and the lock screen: same layout, so the nurse recognises them at once.
import { api, ApiError } from "../api.js";
import { field, fill, h, icon } from "../dom.js";
import { T } from "../i18n.js";
import { cardArea } from "./card_gate.js";

function side(lockedText) {
  return h("section", { class: "gate-side" },
    h("div", { class: "brand" }, h("img", { src: "/static/img/logo.svg", alt: "" }), T.appName),
    h("h1", {}, lockedText ? T.lockedTitle : T.tagline),
    h("p", {}, lockedText || T.gateText),
  );
}

// Where the technician's page is and how to trust it (the certificate's fingerprint); on first boot,
// the one-time code that creates the technician's account (agent/technician/first_boot.py).
function technicianNote() {
  const note = h("section", { class: "technician-note", hidden: true, "aria-label": "Page technicien" });
  api("GET", "/kiosk/technician-access", undefined, { background: true }).then((access) => {
    if (!access.urls.length && !access.provisioning) return;
    const where = access.urls.length ? access.urls.map((url) => h("div", { class: "mono" }, url))
                                     : [h("div", {}, "Le chariot n'a pas encore d'adresse sur le réseau : branchez-le ou connectez-le au Wi-Fi.")];
    fill(note,
      h("h2", {}, access.provisioning ? "Mise en service du chariot" : "Page technicien"),
      access.provisioning ? h("p", {}, "Sur un ordinateur ou un téléphone du même réseau, ouvrez :") : null,
      ...where,
      access.provisioning ? h("p", { class: "first-boot-code" }, "Code de mise en service : ", h("strong", { class: "mono" }, access.code)) : null,
      h("p", { class: "fingerprint-line" }, "Empreinte du certificat : ", h("span", { class: "mono" }, access.fingerprint)));
    note.classList.toggle("provisioning", access.provisioning);
    note.hidden = false;
  }).catch(() => null);  // an older agent, or none: the login screen stays as it is
  return note;
}

function errorBox() {
  return h("div", { class: "alert", role: "alert", hidden: true });
}

function showError(box, error) {
  box.textContent = error instanceof ApiError ? error.message : T.genericError;
  box.hidden = false;
}

function codeField() {
  return field({ id: "otp", label: T.otp, hint: T.otpHint, inputmode: "numeric", autocomplete: "one-time-code",
    pattern: "[0-9 ]*", maxlength: 7, required: true, class: "code" });
}

// No authenticator app at hand: the code by SMS or by email (seed 000 §1.1.2), once the login and
// password are typed; it goes to the person's own mobile or email, never to an address typed here.
function codeByMessage(form, alert, loginOf) {
  const said = h("p", { class: "hint code-sent", role: "status", hidden: true });
  const ask = (channel) => async () => {
    alert.hidden = true;
    const login = loginOf();
    if (!login || !form.password.value) {
      showError(alert, new ApiError(0, "missing", T.codeByMessage.fillFirst));
      (login ? form.password : form.login).focus();
      return;
    }
    try {
      const sent = await api("POST", "/session/code", { login, password: form.password.value, channel });
      said.textContent = T.codeByMessage.sent(channel, sent.sent_to);
      said.hidden = false;
      form.otp.focus();
    } catch (error) {
      showError(alert, error);
    }
  };
  const box = h("div", { class: "code-by-message", hidden: true },
    h("p", { class: "hint" }, T.codeByMessage.lead),
    h("div", { class: "actions-row" },
      h("button", { class: "button secondary", type: "button", "data-code-by": "sms", onclick: ask("sms") }, T.codeByMessage.sms),
      h("button", { class: "button secondary", type: "button", "data-code-by": "email", onclick: ask("email") }, T.codeByMessage.email)),
    said);
  loginWays().then((ways) => {  // only the channels the establishment allows
    for (const button of box.querySelectorAll("[data-code-by]")) button.hidden = !ways.code_by.includes(button.dataset.codeBy);
    box.hidden = ways.code_by.length === 0;
  });
  return box;
}

let ways = null;
function loginWays() {
  ways = ways || api("GET", "/login-ways").catch(() => ({ psc: false, code_by: [] }));
  return ways;
}

// Pro Santé Connect (the e-CPS app on the person's phone): the provider's page in the kiosk, which
// comes back logged in (agent/api/psc_return.py). Shown when the cart is registered for it.
function pscButton() {
  const alert = errorBox();
  const button = h("button", { class: "button secondary block psc", type: "button", hidden: true }, T.psc.button);
  button.addEventListener("click", async () => {
    alert.hidden = true;
    try {
      const { url } = await api("GET", "/psc/start");
      window.location.assign(url);
    } catch (error) {
      showError(alert, error);
    }
  });
  loginWays().then((found) => { button.hidden = !found.psc; });
  return h("div", { class: "psc-way" }, button, alert);
}

async function submitting(form, button, busyLabel, work) {
  const label = button.textContent;
  button.disabled = true;
  button.textContent = busyLabel;
  try {
    await work();
  } finally {
    button.disabled = false;
    button.textContent = label;
  }
}

export function loginView({ onSignedIn }) {
  const alert = errorBox();
  const button = h("button", { class: "button primary block", type: "submit" }, T.signIn);
  const form = h("form", { class: "form", novalidate: true },
    field({ id: "login", label: T.login, autocomplete: "username", autocapitalize: "none", spellcheck: "false", required: true }),
    field({ id: "password", label: T.password, type: "password", autocomplete: "current-password", required: true }),
    codeField(),
    alert,
    button,
  );
  form.append(codeByMessage(form, alert, () => form.login.value.trim()));  // after the main button: the other way
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    alert.hidden = true;
    submitting(form, button, T.signingIn, async () => {
      try {
        const session = await api("POST", "/session", {
          login: form.login.value.trim(),
          password: form.password.value,
          otp: form.otp.value.replace(/\s/g, ""),
        });
        onSignedIn(session);
      } catch (error) {
        showError(alert, error);
        form.otp.value = "";
        (error.code === "bad_credentials" ? form.password : form.otp).focus();
      }
    });
  });
  const view = h("div", { class: "gate" }, h("div", { class: "gate-side-column" }, side(null), technicianNote()),
    h("main", { class: "gate-main" },
      h("div", { class: "card" }, h("h2", {}, T.loginTitle), h("p", { class: "lead" }, T.loginLead),
        withCard(form, onSignedIn, () => form.login.focus(), pscButton()))));
  setTimeout(() => { if (!form.closest(".using-card")) form.login.focus(); }, 0);
  return view;
}

export function lockView({ session, onUnlocked, onSwitchUser }) {
  const alert = errorBox();
  const button = h("button", { class: "button primary block", type: "submit" }, T.unlock);
  const form = h("form", { class: "form", novalidate: true },
    field({ id: "password", label: T.password, type: "password", autocomplete: "current-password", required: true }),
    codeField(),
    alert,
    button,
    h("button", { class: "button secondary block", type: "button", onclick: onSwitchUser }, T.switchUser),
  );
  form.insertBefore(codeByMessage(form, alert, () => session.user.login), form.lastElementChild);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    alert.hidden = true;
    submitting(form, button, T.signingIn, async () => {
      try {
        onUnlocked(await api("POST", "/session/unlock", {
          password: form.password.value,
          otp: form.otp.value.replace(/\s/g, ""),
        }));
      } catch (error) {
        if (error.status === 401 && error.code === "session_expired") return onSwitchUser();
        showError(alert, error);
        form.otp.value = "";
      }
    });
  });
  const view = h("div", { class: "gate locked" }, side(T.lockedSide),
    h("main", { class: "gate-main" },
      h("div", { class: "card" },
        icon("lock", "lock-icon"),
        h("h2", {}, T.unlockTitle),
        h("p", { class: "lead" }, T.lockedLead(session.user.display_name)),
        withCard(form, onUnlocked, () => form.password.focus()))));
  setTimeout(() => { if (!form.closest(".using-card")) form.password.focus(); }, 0);
  return view;
}

// The card's area above the password form: a CPS in the reader puts its PIN pad in the form's
// place (« Se connecter sans carte » brings the form back). Which shows is the wrapper's class.
function withCard(form, onSignedIn, focusForm, otherWay = null) {
  const toggle = h("button", { class: "button secondary block ways-toggle", type: "button" });
  const ways = h("div", { class: "gate-ways" });
  const apply = () => {
    toggle.textContent = ways.classList.contains("forced") ? T.card.useCard : T.card.usePassword;
  };
  const area = cardArea({ onSignedIn, onCard: (ready) => {
    ways.classList.toggle("using-card", ready);
    if (!ready) ways.classList.remove("forced");
    apply();
  } });
  toggle.addEventListener("click", () => {
    ways.classList.toggle("forced");
    apply();
    if (ways.classList.contains("forced")) focusForm();
  });
  ways.append(area, ...(otherWay ? [otherWay] : []), form, toggle);
  return ways;
}
