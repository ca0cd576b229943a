// The frame of every screen after login: brand, navigation, who is logged in, lock and logout.
import { h, icon } from "../dom.js";
import { T } from "../i18n.js";
import { callBanner } from "./call_banner.js";
import { sensorStrip } from "./sensor_strip.js";
import { syncChip } from "./sync_chip.js";

export function shell({ session, current, onNavigate, onSettings, onLock, onLogout }, content) {
  const perms = new Set(session.user.permissions);
  const navItems = [];
  if (perms.has("health.write")) navItems.push({ id: "nouvelle", label: T.navNew, icon: "plus" });
  if (perms.has("health.read")) navItems.push({ id: "residents", label: T.navResidents, icon: "list" });
  if (perms.has("health.read")) navItems.push({ id: "agenda", label: T.navAgenda, icon: "calendar" });
  if (perms.has("audit.read")) navItems.push({ id: "journal", label: T.navAudit, icon: "shield" });
  if (perms.has("directory.manage")) navItems.push({ id: "annuaire", label: T.navDirectory, icon: "list" });
  if (perms.has("users.manage")) navItems.push({ id: "comptes", label: T.navAccounts, icon: "lock" });
  if (perms.has("devices.manage")) navItems.push({ id: "technique", label: T.navTechnical, icon: "refresh" });
  // The activity is the nurses' home; to a role with one page of its own it says why it shows no
  // dossier. An admin has pages enough (and a 10-inch bar has room for four).
  if (perms.has("health.read") || navItems.length < 2) navItems.unshift({ id: "activite", label: T.navActivity, icon: "home" });
  // The technician installs the sensors; nurses reach them from the fiche (a fourth button would
  // squeeze their name off a 10-inch bar).
  if (perms.has("devices.manage")) navItems.push({ id: "capteurs", label: T.navSensors, icon: "pulse" });
  return h("div", { class: "shell" },
    h("header", { class: "topbar" },
      h("div", { class: "brand" }, h("img", { src: "/static/img/logo.svg", alt: "" }), T.appName),
      navItems.length > 1
        ? h("nav", { "aria-label": "Navigation" }, navItems.map((item) =>
          h("button", { class: "button ghost", type: "button", "aria-current": item.id === current ? "page" : null,
            onclick: () => onNavigate(item.id) }, icon(item.icon), item.label)))
        : null,
      h("div", { class: "spacer" }),
      // The user's name opens their settings (the signature), as the regional platforms do.
      h("button", { class: "user", type: "button", title: T.openSettings, "aria-label": `${T.openSettings} — ${session.user.display_name}`, onclick: onSettings },
        h("span", { class: "name" }, session.user.display_name),
        h("span", { class: "role" }, session.user.role_label)),
      h("button", { class: "button ghost", type: "button", onclick: onLock }, icon("lock"), T.lock),
      h("button", { class: "button ghost", type: "button", onclick: onLogout }, icon("logout"), T.logout),
    ),
    h("div", { class: "status-strip" }, callBanner, perms.has("health.read") ? sensorStrip() : null, syncChip()),
    h("main", { class: "content" }, content),
  );
}
