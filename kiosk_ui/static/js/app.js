// The kiosk: login -> activity view; lock screen after idle time or on demand; admin's audit trail.
import { api, setCsrfToken } from "./api.js";
import { followCard } from "./card.js";
import { followNews } from "./news.js";
import { followVitals } from "./vitals.js";
import { h, toast } from "./dom.js";
import { T } from "./i18n.js";
import { watchIdle } from "./idle.js";
import { accountsView } from "./views/accounts.js";
import { activityView } from "./views/activity.js";
import { agendaView } from "./views/agenda.js";
import { auditView } from "./views/audit.js";
import { callView, unattendedCallView } from "./views/call.js";
import { callBanner } from "./views/call_banner.js";
import { callStatsView } from "./views/call_stats.js";
import { consultationEndView } from "./views/consultation_end.js";
import { directoryView } from "./views/directory.js";
import { dossierView } from "./views/dossier.js";
import { expertiseView } from "./views/expertise_request.js";
import { identityPage } from "./views/identity_check.js";
import { residentPage } from "./views/resident.js";
import { residentsView } from "./views/residents.js";
import { sensorsPage } from "./views/sensors_page.js";
import { settingsView } from "./views/settings.js";
import { visioView } from "./views/visio.js";
import { wizardView } from "./views/wizard.js";
import { lockView, loginView } from "./views/gate.js";
import { enterPractice, markPractice } from "./views/practice.js";
import { shell } from "./views/shell.js";

const app = document.getElementById("app");
const state = { session: null, stopIdle: null };

const go = (path) => { location.hash = `#/${path}`; };

const PAGES = {
  activite: (ctx) => activityView({ ...ctx, onOpen: (id) => go(`dossier/${id}`), onCreate: () => go("nouvelle"), onVisio: () => go("visio"),
    onCall: (id) => go(`appel/${id}`) }),
  visio: () => visioView({ onBack: () => go("activite"), onCall: (room) => go(`appel/visio/${room}`) }),
  // "#/nouvelle/<resident>": started from a resident's page, that resident chosen.
  // "#/nouvelle/creneau/2026-12-07T14:30": started from a free slot of the agenda, that slot chosen.
  nouvelle: ({ param }) => wizardView({ patientId: param?.startsWith("creneau/") ? null : param,
    slot: param?.startsWith("creneau/") ? param.slice("creneau/".length) : null,
    onCreated: (dossier) => go(`dossier/${dossier.id}`), onOpenDossier: (id) => go(`dossier/${id}`) }),
  // "#/agenda/jour/2026-12-07", "#/agenda/semaine/2026-12-07": the cart's agenda.
  agenda: ({ param, session }) => agendaView({ session, param, onOpen: (id) => go(`dossier/${id}`),
    onCreateAt: (day, time) => go(`nouvelle/creneau/${day}T${time}`), onMove: (where) => go(`agenda/${where}`) }),
  residents: () => residentsView({ onOpen: (patient) => go(`resident/${patient.id}`) }),
  resident: ({ param, session }) => residentPage({ patientId: param, session, onBack: () => go("residents"),
    onOpenDossier: (id) => go(`dossier/${id}`), onNewConsultation: () => go(`nouvelle/${param}`), onNewExpertise: () => go(`expertise/${param}`) }),
  // "#/expertise/<resident>": a téléexpertise asked for that resident.
  expertise: ({ param }) => expertiseView({ patientId: param, onCreated: (d) => go(`dossier/${d.id}`), onCancel: () => go(`resident/${param}`) }),
  journal: auditView,
  technique: callStatsView,
  capteurs: sensorsPage,
  annuaire: directoryView,
  comptes: accountsView,
  parametres: settingsView,
  dossier: ({ param, session }) => dossierView({ id: param, session, onBack: () => go("activite"), onEnd: () => go(`fin/${param}`),
    onCall: () => go(`appel/${param}`), onIdentity: (patientId) => go(`identite/${patientId}/${param}`) }),
  // "#/identite/<patient>/<dossier>": back to the dossier it was opened from.
  identite: ({ param }) => {
    const [patientId, from] = param.split("/");
    return identityPage({ patientId, onBack: () => go(from ? `dossier/${from}` : "residents") });
  },
  appel: ({ param }) => (param.startsWith("visio/")
    ? callView({ param, onEnded: () => go("activite"), onBack: () => go("activite") })
    : callView({ param, onEnded: () => go(`fin/${param}`), onBack: () => go(`dossier/${param}`) })),
  fin: ({ param, session }) => consultationEndView({ id: param, session, onDone: () => go(`dossier/${param}`) }),
};

// Someone without access to health data but with the audit trail (an admin) lands on the trail.
function homePage() {
  const perms = new Set(state.session.user.permissions);
  if (!perms.has("health.read") && perms.has("audit.read")) return "journal";
  if (!perms.has("health.read") && perms.has("devices.manage")) return "technique";
  return "activite";
}

// "#/dossier/<id>" -> page "dossier", param "<id>"
function currentPage() {
  const [id, ...rest] = location.hash.replace(/^#\/?/, "").split("/");
  return PAGES[id] ? { page: id, param: rest.join("/") || null } : { page: homePage(), param: null };
}

function stopWatching() {
  followVitals(false);
  if (state.stopIdle) state.stopIdle();
  state.stopIdle = null;
}

function showLogin() {
  stopWatching();
  state.session = null;
  setCsrfToken(null);
  app.replaceChildren(loginView({ onSignedIn: enter }));
}

function showLock() {
  stopWatching();
  if (!state.session) return showLogin();
  app.replaceChildren(lockView({ session: state.session, onUnlocked: enter, onSwitchUser: logout }));
}

async function lock({ idle = false } = {}) {
  try {
    await api("POST", `/session/lock?reason=${idle ? "idle" : "manual"}`);
  } catch {
    // Locked already, or the agent is unreachable: the screen locks all the same.
  }
  if (idle) toast(T.lockedByIdle);
  showLock();
}

async function logout() {
  try {
    await api("DELETE", "/session");
  } catch {
    // An expired session is as good as logged out.
  }
  showLogin();
  toast(T.loggedOut);
}

function render() {
  const { page, param } = currentPage();
  app.replaceChildren(shell({
    session: state.session,
    current: ["dossier", "fin", "visio", "appel"].includes(page) ? "activite" : page === "resident" ? "residents" : page,
    onNavigate: go,
    onSettings: () => go("parametres"),
    onLock: () => lock(),
    onLogout: logout,
  }, PAGES[page]({ session: state.session, param })));
}

function enter(session) {
  state.session = session;
  setCsrfToken(session.csrf_token);
  if (session.locked) return showLock();
  stopWatching();
  state.stopIdle = watchIdle(session.idle_lock_seconds, () => lock({ idle: true }),
    () => api("GET", "/session").catch(() => {}), warnBeforeLock);
  followVitals(session.user.permissions.includes("health.read"));
  render();
}

// The agent does not answer (restarting, overloaded): said to whoever stands at the cart, once,
// until it answers again; then the page reads what it shows again by itself.
const offline = h("div", { class: "offline-banner", role: "alert", hidden: true }, T.offline);
document.body.append(offline);
window.addEventListener("telecart:offline", () => {
  if (!offline.hidden) return;
  offline.hidden = false;
  const retry = async () => {
    try {
      const reply = await fetch("/healthz", { cache: "no-store" });
      if (!reply.ok) throw new Error(String(reply.status));
      offline.hidden = true;
      toast(T.online);
      if (state.session) render();
    } catch {
      setTimeout(retry, 3000);
    }
  };
  setTimeout(retry, 3000);
});

// The last half-minute before the idle lock: a large banner, a countdown, and any touch (the
// button too) keeps the session; what was typed stays anyway (drafts, issue 17).
const staying = h("div", { class: "idle-warning", role: "alertdialog", "aria-live": "assertive", hidden: true },
  h("p", { class: "idle-text" }),
  h("button", { class: "button primary large", type: "button" }, T.idleStay));
document.body.append(staying);
function warnBeforeLock(secondsLeft) {
  staying.hidden = secondsLeft === null;
  if (secondsLeft !== null) staying.querySelector(".idle-text").textContent = T.idleWarning(secondsLeft);
}

// The call, wherever the kiosk stands: logged in, a banner back to the call screen; nobody logged in
// (or locked) on a cart that answered by itself, the call itself over the login or lock screen.
const banner = callBanner;
banner.querySelector("button").onclick = () => { if (banner.dataset.call) go(`appel/${banner.dataset.call}`); };
let unattended = null;
let signingInUntil = 0; // a nurse tapped "Se connecter" on the unattended call: the login form, for two minutes

async function checkCall() {
  const unlocked = state.session && state.stopIdle;
  if (unlocked) {
    if (unattended) { unattended.close(); unattended.el.remove(); unattended = null; }
    // Those who take part in calls (the technician follows it on « Appel : technique » instead)
    const joins = state.session.user.permissions.includes("health.write");
    const call = !joins || location.hash.startsWith("#/appel/") ? null : await api("GET", "/call", undefined, { background: true }).catch(() => null);
    banner.hidden = !(call && call.in_call);
    if (!banner.hidden) banner.dataset.call = call.dossier_id || `visio/${call.room}`;
    return;
  }
  banner.hidden = true;
  const call = await api("GET", "/call/unattended", undefined, { background: true }).catch(() => null);
  if (call && call.in_call && !unattended && Date.now() > signingInUntil) {
    const closeShown = () => { shown.close(); shown.el.remove(); if (unattended === shown) unattended = null; };
    const shown = unattendedCallView({
      onEnded: () => { shown.el.remove(); if (unattended === shown) unattended = null; },
      onSignIn: () => { signingInUntil = Date.now() + 120_000; closeShown(); },
    });
    unattended = shown;
    shown.el.classList.add("overlay");
    document.body.append(shown.el);
  }
}
setInterval(checkCall, 3000);
followNews({ isOpen: () => Boolean(state.session && state.stopIdle), onOpen: (id) => go(`dossier/${id}`) });

// The card reader changed: a CPS card pulled out has locked the session it opened (the agent did
// it before saying so), and the screen follows at once.
window.addEventListener("telecart:card", async () => {
  if (!state.session || !state.stopIdle) return;
  const session = await api("GET", "/session", undefined, { background: true }).catch(() => null);
  if (session && session.locked) showLock();
});
followCard();

window.addEventListener("hashchange", () => { if (state.session && state.stopIdle) render(); });
window.addEventListener("telecart:locked", () => { if (state.session) showLock(); });
window.addEventListener("telecart:signed-out", showLogin);

async function boot() {
  await enterPractice();  // "#/entree/<code>": the jump from the real kiosk into the practice one
  try {
    enter(await api("GET", "/session"));
  } catch {
    showLogin();
  }
}

markPractice();
boot();
