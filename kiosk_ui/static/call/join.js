// A participant's page (the specialist, a relative, another professional): check the camera and
// microphone, then the room. Served by the agent at the invitation link (agent/api/join_page.py),
// and opened by the specialist's dossier page beside the dossier on a wide screen (joinCall).
import { h, toast } from "/static/js/dom.js";
import { T, ageOn, frDate } from "/static/js/i18n.js";
import { devicePickers, openDevices, problemText } from "./devices.js";
import { layoutChoice } from "./layout.js";
import { keepLinkSession, linkApiOfPage } from "./link_session.js";
import { Room } from "./mesh.js";
import { pipButton } from "./pip.js";
import { vitalsPanel } from "./vitals_panel.js";
import { chatPanel, endScreen, lobbyPanel, participantsPanel, peerTiles, toggle, videoTile } from "./ui.js";

// `options`: the room page's data (socket, role, name, dossierLink, documents, lobby); the
// specialist's dossier page adds onRoom(room) and onClose() (back to the dossier alone).
export function joinCall(root, options) {
  if (!document.querySelector('link[href="/static/call/room.css"]')) {  // the call's own styles, beside the design system
    document.head.append(h("link", { rel: "stylesheet", href: "/static/call/room.css" }));
  }
  check({ ...options, root, professional: options.role === "specialist" || options.role === "professional" });
}

// Step 1: see and hear yourself before entering.
async function check(call) {
  const { root, lobby, name, socket } = call;
  const preview = videoTile({ id: "me", label: "Vous", mirrored: true, muted: true });
  const meter = h("meter", { min: 0, max: 1, value: 0, class: "mic-meter", "aria-label": "Niveau du micro" });
  const status = h("p", { class: "hint" }, "Autorisez la caméra et le micro quand le navigateur le demande.");
  const join = h("button", { class: "button primary large", type: "button", disabled: true }, "Rejoindre la téléconsultation");
  const devices = h("div"); // the camera and microphone lists, once the browser has allowed them
  // In the lobby the moderators read the name typed here: a forwarded link says who really came.
  const typed = lobby ? h("input", { id: "my-name", name: "my-name", type: "text", maxlength: 60, autocomplete: "name", required: true }) : null;
  root.replaceChildren(h("section", { class: "card call-check" },
    h("h1", {}, lobby ? "Bonjour" : `Bonjour ${name}`),
    typed ? h("div", { class: "field" }, h("label", { for: "my-name" }, "Votre prénom et votre nom"), typed,
      h("p", { class: "hint" }, "L'équipe soignante le lira avant de vous faire entrer.")) : null,
    h("p", {}, "Vérifiez votre caméra et votre micro : parlez, la barre doit bouger."),
    preview.el, h("div", { class: "check-settings" }, h("label", {}, "Niveau du micro ", meter), devices, status, join)));
  const { stream, problem } = await openDevices();
  if (stream) {
    preview.setStream(stream);
    watchLevel(stream, meter);
    devices.replaceWith(devicePickers(stream, (track) => {
      if (track.kind === "audio") watchLevel(stream, meter);
      else showAgain(preview, stream);
    }).el);
  }
  status.textContent = problemText(problem) || "Tout est prêt.";
  status.className = problem ? "notice-box" : "hint";
  const named = () => !typed || typed.value.trim().length >= 2;
  join.disabled = !named();
  if (typed) typed.addEventListener("input", () => { join.disabled = !named(); });
  if (!stream) join.textContent = "Rejoindre sans caméra ni micro";
  join.addEventListener("click", () => {
    if (!named() || join.dataset.done) return;
    join.dataset.done = "1";
    enter(call, stream, typed ? `${socket}?nom=${encodeURIComponent(typed.value.trim())}` : socket);
  });
}

// The meter follows the stream's microphone; another one chosen starts a new loop, the old one stops.
function watchLevel(stream, meter) {
  if (!stream.getAudioTracks().length) return;
  meter.round = (meter.round || 0) + 1;
  const round = meter.round;
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  context.createMediaStreamSource(stream).connect(analyser);
  const data = new Float32Array(analyser.fftSize);
  const tick = () => {
    analyser.getFloatTimeDomainData(data);
    meter.value = Math.min(1, Math.sqrt(data.reduce((s, v) => s + v * v, 0) / data.length) * 8);
    if (document.body.contains(meter) && meter.round === round) requestAnimationFrame(tick);
    else context.close();
  };
  tick();
}

// A <video> shows the stream's tracks as they were when it was given it: again, after a new camera.
function showAgain(tile, stream) {
  tile.video.srcObject = null;
  tile.setStream(stream);
}

// The person's camera and microphone, changed during the call (seed 001 §3.2).
function devicesPanel(stream, room, me) {
  const pickers = devicePickers(stream, (track) => {
    room.useDevice(track);
    if (track.kind === "video") showAgain(me, stream);
  });
  return h("section", { class: "side-panel devices", "aria-label": "Caméra et micro" }, h("h2", {}, "Caméra et micro"), pickers.el);
}

// Step 2: the room (for those who wait, the lobby first: nothing of the room reaches them there).
function enter(call, stream, url) {
  const { root, role, lobby } = call;
  const room = new Room({ url, stream });
  window.telecartRoom = room; // for the technician's console and the tests
  if (call.onRoom) call.onRoom(room);
  const cart = videoTile({ id: "cart", label: "Chariot : en attente…", main: true });
  const me = videoTile({ id: "me", label: "Vous", mirrored: true, muted: true });
  if (stream) me.setStream(stream);
  const tiles = h("div", { class: "tiles-area" }, cart.el, me.el); // every picture, laid out by layoutChoice
  const waiting = h("p", { class: "waiting" }, "L'équipe soignante va vous rejoindre. Gardez cette page ouverte.");
  const side = h("div", { class: "side" }, call.professional ? vitalsPanel(room) : null, chatPanel(room),
    participantsPanel(room, { canModerate: () => role === "specialist" }), stream ? devicesPanel(stream, room, me) : null);
  const connection = h("p", { class: "connection", hidden: true }, "Connexion perdue : reconnexion en cours…");
  // The cart's picture never came (a hospital firewall dropping the media): said, with what to do.
  const noPath = h("p", { class: "no-path", role: "alert", hidden: true },
    "L'image et le son du chariot n'arrivent pas : le réseau où vous êtes bloque sans doute la visioconférence. "
    + "Essayez un autre réseau (le partage de connexion de votre téléphone) ou prévenez votre service informatique.");
  const resident = h("p", { class: "resident-on-call", hidden: true });
  if (role === "specialist") showResident(resident);
  const inCall = h("div", { class: "call" },
    h("div", { class: "stage" }, resident, role === "specialist" ? lobbyPanel(room) : null, tiles, waiting, connection, noPath),
    side, controls(call, room, stream, tiles, cart));
  const lobbyWait = h("section", { class: "card lobby-wait", hidden: true }, h("h1", {}, "Salle d'attente"),
    h("p", { class: "lobby-text" }, "Connexion…"),
    h("button", { class: "button secondary", type: "button", onclick: () => { room.leave(); ended(call, "Vous avez quitté la salle d'attente", "Vous pouvez revenir avec le même lien tant que la salle est ouverte."); } }, "Quitter"));
  root.replaceChildren(lobbyWait, inCall);
  inCall.hidden = Boolean(lobby);
  if (role === "specialist") keepLinkSession(() => inCall.isConnected, call.onSessionEnded);
  room.addEventListener("lobby_wait", ({ detail }) => {
    lobbyWait.querySelector(".lobby-text").textContent = detail.text;
    lobbyWait.hidden = false;
    inCall.hidden = true;
  });
  room.addEventListener("welcome", ({ detail }) => {
    lobbyWait.hidden = true;
    inCall.hidden = false;
    const cartMember = detail.members.find((m) => m.id === "cart");
    cart.setLabel(cartMember ? cartMember.name : "Chariot : en attente…");
    waiting.hidden = Boolean(cartMember);
  });
  room.addEventListener("track", ({ detail }) => {
    if (detail.peer === "cart") { cart.setStream(detail.stream); waiting.hidden = true; }
  });
  peerTiles(room, tiles, { skip: (peer) => peer === "cart" });
  room.addEventListener("members", ({ detail }) => {
    const cartMember = room.members.get("cart");
    cart.setLabel(cartMember ? cartMember.name : "Chariot : en attente…");
    waiting.hidden = Boolean(cartMember);
    if (detail.changed && detail.changed.id === "cart") cart.setMember(detail.changed);
    if (detail.joined) toast(`${detail.joined.name} a rejoint la salle.`);
    if (detail.text) toast(detail.text);
  });
  room.addEventListener("connection", ({ detail }) => { connection.hidden = detail.up; });
  room.addEventListener("nopath", ({ detail }) => { if (detail.peer === "cart") noPath.hidden = false; });
  room.addEventListener("peerstate", ({ detail }) => { if (detail.peer === "cart" && detail.state === "connected") noPath.hidden = true; });
  listen(call, room);
  room.connect();
}

// The buttons under the pictures: microphone, camera, screen, audio only, photo, document, the
// dossier (in another tab from the room's own page), the layout, the cart in a window, leaving.
function controls(call, room, stream, tiles, cart) {
  const { role, documents, dossierLink } = call;
  return h("div", { class: "controls" },
    toggle({ id: "mute", on: "Activer le micro", off: "Couper le micro", onChange: (v) => room.setState({ muted: v }) }),
    toggle({ id: "video", on: "Activer la caméra", off: "Couper la caméra", onChange: (v) => room.setState({ video_off: v }) }),
    navigator.mediaDevices.getDisplayMedia ? h("button", { id: "share", class: "button control", type: "button", onclick: () => share(room, stream) }, "Partager l'écran") : null,
    toggle({ id: "audio-only", on: "Revenir à la vidéo", off: "Connexion faible", onChange: (v) => room.setState({ audio_only: v }) }),
    call.professional ? h("button", { id: "snapshot", class: "button control", type: "button", onclick: () => { room.send({ type: "snapshot" }); toast("Photo demandée au chariot…"); } }, "Prendre une photo") : null,
    documents ? documentButton(documents) : null,
    dossierLink ? h("a", { class: "button control", href: dossierLink, target: "_blank", rel: "noopener" }, "Ouvrir le télédossier") : null,
    layoutChoice(tiles),
    pipButton(cart.video),
    h("button", { id: "leave", class: "button control danger", type: "button", onclick: () => {
      room.leave();
      ended(call, "Vous avez quitté la salle", role === "specialist" && call.onClose ? "Vous pouvez la rejoindre à nouveau depuis le télédossier tant qu'elle est ouverte."
        : "Vous pouvez la rejoindre à nouveau avec le même lien tant qu'elle est ouverte.");
    } }, "Quitter"));
}

// What the room says to this person alone: a camera lost, an error, a request to unmute, the end.
function listen(call, room) {
  room.addEventListener("camera", ({ detail }) => { if (detail.notice) toast(detail.notice); });
  room.addEventListener("error", ({ detail }) => toast(detail.text, "error"));
  room.addEventListener("unmute_request", ({ detail }) => {
    toast(`${detail.name} vous demande d'activer votre micro.`);
    const button = document.getElementById("mute");
    if (button && button.getAttribute("aria-pressed") === "true") button.classList.add("attention");
  });
  const endTitle = { removed: "Vous avez été retiré de la salle", refused: "Entrée refusée" };
  room.addEventListener("end", ({ detail }) => ended(call, endTitle[detail.type] || "La téléconsultation est terminée", detail.text));
}

// The end of the call; beside the dossier, with the way back to the dossier alone.
function ended(call, title, text) {
  const screen = endScreen(title, text);
  if (call.onClose) screen.append(h("button", { class: "button secondary", type: "button", onclick: call.onClose }, "Fermer l'appel"));
  call.root.replaceChildren(screen);
}

// Identitovigilance: over the call, the resident this link's dossier is about, so that a wrong
// link or a wrong picture is seen at once. Only to the doctor whose link session (the code) is
// live: the link alone, forwarded or not, names nobody.
async function showResident(el) {
  try {
    const reply = await fetch(`${linkApiOfPage()}/dossier`,
      { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!reply.ok) return;
    const p = (await reply.json()).patient;
    el.textContent = `${p.display_name}, ${T.bornOn(p.sex, frDate(p.birth_date), ageOn(p.birth_date))}`;
    el.hidden = false;
  } catch {
    // No dossier to name: the call goes on without the line.
  }
}

async function share(room, stream) {
  if (room.state.sharing) return;
  try {
    const display = await navigator.mediaDevices.getDisplayMedia({ video: true });
    const track = display.getVideoTracks()[0];
    room.useVideo(track);
    room.setState({ sharing: true });
    track.addEventListener("ended", () => {
      room.useVideo(stream ? stream.getVideoTracks()[0] || null : null);
      room.setState({ sharing: false });
    });
  } catch {
    toast("Partage d'écran annulé.");
  }
}

// A document (PDF, JPEG, PNG) into the dossier during the call; the room is told by the cart.
function documentButton(documents) {
  const input = h("input", { type: "file", id: "document-file", accept: "application/pdf,image/jpeg,image/png", hidden: true });
  input.addEventListener("change", async () => {
    const file = input.files[0];
    if (!file) return;
    const form = new FormData();
    form.append("file", file, file.name);
    try {
      const reply = await fetch(documents, { method: "POST", body: form });
      const body = await reply.json().catch(() => ({}));
      if (!reply.ok) toast(body.message || "Le document n'a pas pu être envoyé.", "error");
      else toast(`Document « ${body.name} » ajouté au dossier.`);
    } catch {
      toast("Le document n'a pas pu être envoyé : vérifiez votre connexion.", "error");
    }
    input.value = "";
  });
  return h("span", {}, input, h("button", { id: "send-document", class: "button control", type: "button", onclick: () => input.click() }, "Envoyer un document"));
}

// The room's own page (join_page.py): its data on <main id="room">.
const page = document.getElementById("room");
if (page && page.dataset.socket) joinCall(page, { ...page.dataset });
