// The activity view (seed 000 §2.1): dossiers on the left, scheduled and running
// teleconsultations on the right, each with an empty state that says what comes next. It follows
// the cart by itself (pulse.js): who waits in which room, at once; the lists when they change.
import { api } from "../api.js";
import { fill, h, icon, reportError } from "../dom.js";
import { T, ageOn, frDate, frWhen } from "../i18n.js";
import { followPulse, presenceText } from "../pulse.js";

const OPEN_STATES = new Set(["scheduled", "in_progress"]);

function badge(state) {
  return h("span", { class: `badge state-${state}` }, T.states[state] || state);
}

function empty(iconName, title, text) {
  return h("div", { class: "empty" }, icon(iconName), h("p", { class: "title" }, title), h("p", {}, text));
}

function dossierRow(d, onOpen) {
  return h("li", { class: "row clickable", "data-dossier": d.id, role: "button", tabindex: "0", onclick: () => onOpen(d.id) },
    h("span", { class: "who" }, d.patient_name),
    badge(d.state),
    h("span", { class: "meta" },
      `${T.bornOn(d.patient_sex, frDate(d.patient_birth_date), ageOn(d.patient_birth_date))}${d.reason ? ` · ${d.reason}` : ""}`),
  );
}

function consultationRow(d, onOpen) {
  return h("li", { class: `row clickable ${d.state === "in_progress" ? "now" : ""}`, "data-consultation": d.id, role: "button", tabindex: "0",
    onclick: () => onOpen(d.id) },
    h("span", { class: "when" }, d.slot_start ? `${frWhen(d.slot_start)}${d.slot_minutes ? ` · ${T.minutes(d.slot_minutes)}` : ""}` : ""),
    badge(d.state),
    h("span", { class: "who" }, d.patient_name),
    h("span", { class: "meta" }, d.specialist || d.specialty ? T.withSpecialist(d.specialist, d.specialty) : T.noSpecialist),
    ...d.not_reached.map((person) => h("span", { class: "not-reached" }, T.notReached.line(person.name, T.notReached.how(person.deliveries)))),
  );
}

function panel(title, countText, body, extra) {
  return h("section", { class: "card panel", "aria-label": title },
    h("div", { class: "panel-head" },
      h("div", { class: "titles" }, h("h2", {}, title), h("span", { class: "count" }, countText)),
      extra || null),
    h("div", { class: "panel-body" }, body));
}

// Who is in the consultation's room, on its row, with one tap to enter (seed 001 §3.1: see who
// is in the room before entering).
function showPresence(root, rooms, onCall) {
  for (const row of root.querySelectorAll("[data-consultation]")) {
    const room = rooms.get(row.dataset.consultation);
    const text = presenceText(room);
    let line = row.querySelector(".presence");
    if (!text) { if (line) line.remove(); continue; }
    if (!line) { line = h("span", { class: "presence" }); row.append(line); }
    const enter = room.cart_in_call || !room.present.length ? null
      : h("button", { class: "button primary", type: "button", onclick: (event) => { event.stopPropagation(); onCall(row.dataset.consultation); } }, T.presence.enter);
    fill(line, h("strong", { role: "status" }, text), enter);
  }
}

export function activityView({ session, onOpen, onCreate, onVisio, onCall }) {
  const perms = new Set(session.user.permissions);
  if (!perms.has("health.read")) {
    return h("div", { class: "card" },
      h("div", { class: "empty" }, icon("shield"), h("p", { class: "title" }, T.noHealthAccessTitle),
        h("p", {}, T.noHealthAccessText(session.user.role_label.toLowerCase())),
        perms.has("audit.read") ? h("p", {}, T.noHealthAccessAdmin) : null));
  }
  const root = h("div", { class: "activity" });
  let rooms = new Map();
  let version = null;
  followPulse(root, (pulse) => {
    rooms = new Map(pulse.rooms.filter((r) => r.dossier_id).map((r) => [r.dossier_id, r]));
    if (version !== null && pulse.version !== version) load({ background: true });
    version = pulse.version;
    showPresence(root, rooms, onCall);
  });

  async function load({ background = false } = {}) {
    try {
      const { items } = await api("GET", "/dossiers", undefined, { background });
      const running = items
        .filter((d) => OPEN_STATES.has(d.state))
        .sort((a, b) => (a.state === "in_progress" ? -1 : 0) - (b.state === "in_progress" ? -1 : 0)
          || String(a.slot_start).localeCompare(String(b.slot_start)));
      const refresh = h("button", { class: "button secondary", type: "button", onclick: () => load() }, icon("refresh"), T.refresh);
      root.replaceChildren(
        panel(T.dossiers, T.count(items.length),
          items.length ? h("ul", { class: "list" }, items.map((d) => dossierRow(d, onOpen))) : empty("folder", T.noDossierTitle, T.noDossierText),
          h("div", { class: "actions-row" }, refresh,
            perms.has("health.write") ? h("button", { class: "button secondary", type: "button", onclick: onVisio }, T.visio.button) : null)),
        panel(T.consultations, T.countConsultations(running.length),
          running.length ? h("ul", { class: "list" }, running.map((d) => consultationRow(d, onOpen)))
            : empty("calendar", T.noConsultationTitle, T.noConsultationText),
          perms.has("health.write") ? h("button", { class: "button primary", type: "button", onclick: onCreate }, icon("plus"), T.newConsultation) : null),
      );
      showPresence(root, rooms, onCall);
    } catch (error) {
      if (!background) reportError(error);
    }
  }
  load();
  return root;
}
