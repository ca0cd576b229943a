// The cart in the call (seed 001 §3.2, seed 000 §2.4): the participants large, what the specialist
// sees of the resident in a corner (the local preview, so the nurse can aim the exam camera), the
// camera switch and the snapshot, the chat, the participants, and leaving.
import { api } from "../api.js";
import { field, h, reportError, toast } from "../dom.js";
import { T, ageOn, frDate } from "../i18n.js";
import { holdIdle } from "../idle.js";
import { cameraPreview, cameraSwitch } from "./exam_camera.js";
import { Room } from "/static/call/mesh.js";
import { chatPanel, lobbyPanel, participantsPanel, peerTiles, tabs, toggle } from "/static/call/ui.js";

// `param`: a dossier's id, or "visio/<room>" for a Visio SMS room (no dossier: no photo, no invitation).
export function callView({ param, onEnded, onBack }) {
  const visioRoom = param.startsWith("visio/") ? param.slice(6) : null;
  const id = visioRoom ? null : param;
  const base = visioRoom ? `/visio/${encodeURIComponent(visioRoom)}` : `/dossiers/${encodeURIComponent(id)}`;
  const root = h("div", { class: "call kiosk-call" }, h("p", { class: "hint" }, "Entrée en salle…"));
  start();
  return root;

  async function start() {
    let call;
    try {
      call = await api("GET", "/call");
      const here = visioRoom ? call.room === visioRoom : call.dossier_id === id;
      if (!call.in_call || !here) call = await api("POST", `${base}/call`);
    } catch (error) {
      reportError(error);
      root.replaceChildren(h("div", { class: "card" }, h("p", {}, error.message),
        h("button", { class: "button secondary", type: "button", onclick: onBack }, visioRoom ? "Revenir à l'activité" : "Revenir au télédossier")));
      return;
    }
    show(call);
  }

  function show(call) {
    const room = new Room({ url: "/ws/call", screen: true });
    window.telecartRoom = room; // for the tests and the technician's console
    const release = holdIdle();
    const grid = h("div", { class: "remote-grid" });
    const waiting = h("div", { class: "waiting" }, h("p", {}, id ? T.callInvited.waiting : T.callInvited.waitingVisio));
    const preview = cameraPreview({ cls: "preview", alt: "Ce que voit le médecin" });
    const cameras = cameraSwitch(call.camera);
    const snapshot = snapshotButton();
    const close = holdCallScreen({ param, room, release });
    const finish = () => close(onEnded);
    const leave = leaveButton(base, () => close(onBack));
    const end = id ? endButton(base, finish) : null;
    const connection = h("p", { class: "connection", hidden: true }, "Connexion au chariot perdue : reconnexion…");
    const mute = toggle({ id: "mute", on: "Activer le micro du chariot", off: "Couper le micro du chariot", onChange: (v) => room.setState({ muted: v }) });
    const videoOff = toggle({ id: "video", on: "Activer la caméra", off: "Couper la caméra", onChange: (v) => room.setState({ video_off: v }) });
    // A poor network at the EHPAD: the sound, and the pictures as stills every few seconds.
    const poorLink = toggle({ id: "poor-link", on: "Revenir à la vidéo", off: "Connexion faible", onChange: (v) => room.setState({ audio_only: v }) });
    const resident = h("p", { class: "resident-on-call", hidden: true });
    let invited = [];
    const readDossier = () => showDossier(id, resident, waiting).then((people) => { invited = people; room.emit("members", {}); });
    root.replaceChildren(
      h("div", { class: "stage" }, resident, lobbyPanel(room), grid, waiting, connection),
      h("aside", { class: "side" },
        h("section", { class: "card own-view" }, h("h2", {}, "Ce que voit le médecin"), preview, cameras.notice, cameras.el, id ? snapshot : null),
        sidePanels(room, id, () => invited, readDossier)),
      h("div", { class: "controls" }, mute, videoOff, poorLink, leave, end));
    if (id) readDossier();
    followCartState(room, mute, videoOff, poorLink);
    peerTiles(room, grid, { onCount: (n) => { waiting.hidden = n > 0; } });
    announceRoomEvents(room, { cameras, connection, finish });
    room.connect();
  }
}

// Identitovigilance: the resident's name and birth date over the call, so that a wrong dossier or
// a wrong picture is seen at once (issue 17; the cart's screen left alone never shows it). And the
// truth about the links: who has not received theirs is said where the nurse waits for them.
// Returns the people invited, for the participants' list.
async function showDossier(dossierId, residentEl, waiting) {
  try {
    const d = await api("GET", `/dossiers/${encodeURIComponent(dossierId)}`);
    const p = d.patient;
    residentEl.textContent = `${p.display_name}, ${T.bornOn(p.sex, frDate(p.birth_date), ageOn(p.birth_date))}`;
    residentEl.hidden = false;
    const people = d.invitations.filter((inv) => !inv.revoked_at).map((inv) => {
      const name = inv.shown_name;  // as the room names them once they arrive
      const reached = inv.deliveries.some((x) => x.state === "sent");
      const detail = T.notReached.how(inv.deliveries);
      return { member: `p${inv.participant_id}`, name, role: inv.role, reached, detail,
        how: reached ? T.callInvited.linkSent : T.callInvited.linkNotReceived(detail) };
    });
    const missing = people.filter((x) => !x.reached);
    if (missing.length) waiting.replaceChildren(...missing.map((x) => h("p", { class: "not-reached" }, T.notReached.line(x.name, x.detail))));
    return people;
  } catch (error) {
    reportError(error);
    return [];
  }
}

// "Prendre une photo": a still of the active camera into the dossier, one at a time.
function snapshotButton() {
  const snapshot = h("button", { id: "snapshot", class: "button secondary", type: "button", onclick: async () => {
    snapshot.disabled = true;
    try {
      const doc = await api("POST", "/call/snapshot");
      toast(`Photo ajoutée au télédossier (${doc.width} × ${doc.height}).`);
    } catch (error) { reportError(error); } finally { snapshot.disabled = false; }
  } }, "Prendre une photo");
  return snapshot;
}

// Leaving this screen (another page of the kiosk) leaves the cart in the call: only this
// screen's connection closes; "Entrer en salle" brings it back. Returns what closes the screen
// and goes on to `next` (the dossier, or the end of the consultation).
function holdCallScreen({ param, room, release }) {
  document.body.classList.add("has-call");
  const detach = () => { release(); room.leave(); document.body.classList.remove("has-call"); window.removeEventListener("hashchange", away); };
  const away = () => { if (!location.hash.startsWith(`#/appel/${param}`)) detach(); };
  window.addEventListener("hashchange", away);
  return (next) => { detach(); next(); };
}

// Leaving is not ending (issue 17): « Quitter la salle » takes the cart out of the room, which
// stays open for it to come back (the doctor not there yet, a resident to fetch); « Terminer la
// téléconsultation » leaves and opens the end of the consultation, whose « Valider » ends it.
function leaveButton(base, then) {
  const leave = h("button", { id: "leave", class: "button secondary", type: "button", onclick: async () => {
    leave.disabled = true;
    try {
      await api("DELETE", `${base}/call`);
      toast(T.callInvited.left);
    } catch (error) { reportError(error); }
    then();
  } }, T.callInvited.leave);
  return leave;
}

function endButton(base, finish) {
  const end = h("button", { id: "end", class: "button danger", type: "button", onclick: async () => {
    end.disabled = true;
    try { await api("DELETE", `${base}/call`); } catch (error) { reportError(error); }
    finish();
  } }, T.callInvited.end);
  return end;
}

// The chat, the participants and, for a dossier's call, the invitation form, behind tabs.
function sidePanels(room, dossierId, invited, onInvited) {
  return tabs([
    { id: "chat", label: "Discussion", panel: chatPanel(room) },
    { id: "members", label: "Participants", panel: participantsPanel(room, { canModerate: () => true, invited }) },
    dossierId ? { id: "invite", label: "Inviter", panel: invitePanel(dossierId, onInvited) } : null,
  ].filter(Boolean));
}

// Back in a call the cart was already in, its buttons show whether it is muted or its video off.
function followCartState(room, mute, videoOff, poorLink) {
  room.addEventListener("welcome", ({ detail }) => {
    const cart = detail.members.find((m) => m.id === "cart");
    if (!cart) return;
    mute.set(cart.muted);
    videoOff.set(cart.video_off);
    poorLink.set(cart.audio_only);
    Object.assign(room.state, { muted: cart.muted, video_off: cart.video_off, audio_only: cart.audio_only });
  });
}

// What happens in the room, said on the screen: arrivals, camera changes, a lost connection,
// errors, requests to unmute, and the end of the call.
function announceRoomEvents(room, { cameras, connection, finish }) {
  room.addEventListener("members", ({ detail }) => { if (detail.joined) toast(`${detail.joined.name} a rejoint la salle.`); });
  room.addEventListener("camera", ({ detail }) => { cameras.render(detail); if (detail.notice) toast(detail.notice); });
  room.addEventListener("connection", ({ detail }) => { connection.hidden = detail.up; });
  room.addEventListener("error", ({ detail }) => toast(detail.text, "error"));
  room.addEventListener("unmute_request", ({ detail }) => toast(`${detail.name} demande d'activer le micro du chariot.`));
  room.addEventListener("end", ({ detail }) => { toast(detail.text); finish(); });
}

// Invite one more participant by link during the call (a relative, another professional).
function invitePanel(dossierId, onInvited) {
  const role = h("select", { id: "invite-role", name: "invite-role" },
    h("option", { value: "relative" }, "Un proche"), h("option", { value: "professional" }, "Un professionnel de santé"));
  const form = h("form", { class: "invite-form", onsubmit: async (event) => {
    event.preventDefault();
    const value = (name) => form.querySelector(`#invite-${name}`).value.trim() || null;
    try {
      await api("POST", `/dossiers/${encodeURIComponent(dossierId)}/invitations`, {
        role: role.value, name: value("name"), first_name: value("first-name"), email: value("email"), mobile: value("mobile") });
      toast("Invitation créée : son envoi se suit dans « Participants » et sur le télédossier.");
      form.reset();
      onInvited();
    } catch (error) { reportError(error); }
  } },
  h("div", { class: "field" }, h("label", { for: "invite-role" }, "Qui ?"), role),
  field({ id: "invite-name", label: "Nom", required: true, autocomplete: "off" }),
  field({ id: "invite-first-name", label: "Prénom", autocomplete: "off" }),
  field({ id: "invite-email", label: "E-mail", type: "email", autocomplete: "off" }),
  field({ id: "invite-mobile", label: "Téléphone portable", type: "tel", autocomplete: "off" }),
  h("button", { class: "button primary", type: "submit" }, "Envoyer l'invitation"));
  return h("section", { class: "side-panel invite", "aria-label": "Inviter un participant" },
    h("h2", {}, "Inviter un participant"), h("p", { class: "hint" }, "Il reçoit un lien personnel, valable pendant le créneau."), form);
}

// The call on a cart that answered by itself, shown over the login or lock screen: the participants'
// faces and voices and the chat, nothing of the dossier (no session, no health data).
export function unattendedCallView({ onEnded, onSignIn }) {
  const room = new Room({ url: "/ws/call", screen: true });
  const grid = h("div", { class: "remote-grid" });
  const waiting = h("p", { class: "waiting" }, "Le chariot a décroché : les participants arrivent.");
  const root = h("div", { class: "call kiosk-call unattended" },
    h("div", { class: "stage" }, grid, waiting),
    h("aside", { class: "side" },
      h("section", { class: "card" }, h("h2", {}, "Téléconsultation en cours"),
        h("p", {}, "Le chariot a répondu seul à l'appel. Un soignant peut se connecter pour voir le télédossier."),
        h("button", { class: "button secondary", type: "button", onclick: onSignIn }, "Se connecter (soignant)")),
      chatPanel(room)));
  const release = holdIdle();
  peerTiles(room, grid, { onCount: (n) => { waiting.hidden = n > 0; } });
  room.addEventListener("end", () => { release(); room.leave(); onEnded(); });
  room.connect();
  return { el: root, close: () => { release(); room.leave(); } };
}
