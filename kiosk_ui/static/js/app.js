// The kiosk: login -> activity view; lock screen after idle time or on demand; admin's audit trail.
import { api, setCsrfToken } from "./api.js";
import { toast } from "./dom.js";
import { T } from "./i18n.js";
import { watchIdle } from "./idle.js";
import { activityView } from "./views/activity.js";
import { auditView } from "./views/audit.js";
import { callView } from "./views/call.js";
import { callStatsView } from "./views/call_stats.js";
import { consultationEndView } from "./views/consultation_end.js";
import { directoryView } from "./views/directory.js";
import { dossierView } from "./views/dossier.js";
import { residentsView } from "./views/residents.js";
import { settingsView } from "./views/settings.js";
import { visioView } from "./views/visio.js";
import { wizardView } from "./views/wizard.js";
import { lockView, loginView } from "./views/gate.js";
import { shell } from "./views/shell.js";

const app = document.getElementById("app");
const state = { session: null, stopIdle: null };

const go = (path) => { location.hash = `#/${path}`; };

const PAGES = {
  activite: (ctx) => activityView({ ...ctx, onOpen: (id) => go(`dossier/${id}`), onCreate: () => go("nouvelle"), onVisio: () => go("visio") }),
  visio: () => visioView({ onBack: () => go("activite") }),
  nouvelle: () => wizardView({ onCreated: (dossier) => go(`dossier/${dossier.id}`) }),
  residents: residentsView,
  journal: auditView,
  technique: callStatsView,
  annuaire: directoryView,
  parametres: settingsView,
  dossier: ({ param, session }) => dossierView({ id: param, session, onBack: () => go("activite"), onEnd: () => go(`fin/${param}`),
    onCall: () => go(`appel/${param}`) }),
  appel: ({ param }) => callView({ id: param, onEnded: () => go(`fin/${param}`), onBack: () => go(`dossier/${param}`) }),
  fin: ({ param }) => consultationEndView({ id: param, onDone: () => go(`dossier/${param}`) }),
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
    current: ["dossier", "fin", "visio", "appel"].includes(page) ? "activite" : page,
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
    () => api("GET", "/session").catch(() => {}));
  render();
}

window.addEventListener("hashchange", () => { if (state.session && state.stopIdle) render(); });
window.addEventListener("telecart:locked", () => { if (state.session) showLock(); });
window.addEventListener("telecart:signed-out", showLogin);

async function boot() {
  try {
    enter(await api("GET", "/session"));
  } catch {
    showLogin();
  }
}

boot();
