// A participant's page (the specialist, a relative, another professional): check the camera and
// microphone, then the room. Served by the agent at the invitation link (agent/api/join_page.py).
import { h, toast } from "/static/js/dom.js";
import { T, ageOn, frDate } from "/static/js/i18n.js";
import { Room } from "./mesh.js";
import { vitalsPanel } from "./vitals_panel.js";
import { chatPanel, endScreen, lobbyPanel, participantsPanel, peerTiles, toggle, videoTile } from "./ui.js";

const root = document.getElementById("room");
const { socket, role, name, dossierLink, documents, lobby } = root.dataset;
const professional = role === "specialist" || role === "professional";

async function openDevices() {
  try {
    return { stream: await navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720 }, audio: true }) };
  } catch (error) {
    try { // no camera, or refused: the voice alone is worth having
      return { stream: await navigator.mediaDevices.getUserMedia({ audio: true }), problem: error };
    } catch {
      return { stream: null, problem: error };
    }
  }
}

function problemText(error) {
  if (!error) return null;
  if (error.name === "NotAllowedError") return "Votre navigateur n'a pas donné accès à la caméra et au micro. Autorisez-les (icône à gauche de l'adresse), puis rechargez la page.";
  if (error.name === "NotFoundError") return "Aucune caméra ou aucun micro trouvé sur cet appareil. Vous pouvez rejoindre la salle pour voir et entendre le chariot.";
  if (!window.isSecureContext) return "Cette page n'est pas sécurisée (https) : le navigateur refuse la caméra. Ouvrez le lien exact reçu.";
  return "La caméra ou le micro ne répond pas. Fermez les autres applications qui les utilisent, puis rechargez la page.";
}

// Step 1: see and hear yourself before entering.
async function check() {
  const preview = videoTile({ id: "me", label: "Vous", mirrored: true, muted: true });
  const meter = h("meter", { min: 0, max: 1, value: 0, class: "mic-meter", "aria-label": "Niveau du micro" });
  const status = h("p", { class: "hint" }, "Autorisez la caméra et le micro quand le navigateur le demande.");
  const join = h("button", { class: "button primary large", type: "button", disabled: true }, "Rejoindre la téléconsultation");
  // In the lobby the moderators read the name typed here: a forwarded link says who really came.
  const typed = lobby ? h("input", { id: "my-name", name: "my-name", type: "text", maxlength: 60, autocomplete: "name", required: true }) : null;
  root.replaceChildren(h("section", { class: "card call-check" },
    h("h1", {}, lobby ? "Bonjour" : `Bonjour ${name}`),
    typed ? h("div", { class: "field" }, h("label", { for: "my-name" }, "Votre prénom et votre nom"), typed,
      h("p", { class: "hint" }, "L'équipe soignante le lira avant de vous faire entrer.")) : null,
    h("p", {}, "Vérifiez votre caméra et votre micro : parlez, la barre doit bouger."),
    preview.el, h("label", {}, "Micro ", meter), status, join));
  const { stream, problem } = await openDevices();
  if (stream) {
    preview.setStream(stream);
    watchLevel(stream, meter);
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
    enter(stream, typed ? `${socket}?nom=${encodeURIComponent(typed.value.trim())}` : socket);
  });
}

function watchLevel(stream, meter) {
  if (!stream.getAudioTracks().length) return;
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  context.createMediaStreamSource(stream).connect(analyser);
  const data = new Float32Array(analyser.fftSize);
  const tick = () => {
    analyser.getFloatTimeDomainData(data);
    meter.value = Math.min(1, Math.sqrt(data.reduce((s, v) => s + v * v, 0) / data.length) * 8);
    if (document.body.contains(meter)) requestAnimationFrame(tick);
    else context.close();
  };
  tick();
}

// Step 2: the room (for those who wait, the lobby first: nothing of the room reaches them there).
function enter(stream, url) {
  const room = new Room({ url, stream });
  window.telecartRoom = room; // for the technician's console and the tests
  const cart = videoTile({ id: "cart", label: "Chariot : en attente…", main: true });
  const me = videoTile({ id: "me", label: "Vous", mirrored: true, muted: true });
  if (stream) me.setStream(stream);
  const others = h("div", { class: "tiles" });
  const waiting = h("p", { class: "waiting" }, "L'équipe soignante va vous rejoindre. Gardez cette page ouverte.");
  const side = h("div", { class: "side" }, professional ? vitalsPanel(room) : null, chatPanel(room),
    participantsPanel(room, { canModerate: () => role === "specialist" }));
  const connection = h("p", { class: "connection", hidden: true }, "Connexion perdue : reconnexion en cours…");
  const controls = h("div", { class: "controls" },
    toggle({ id: "mute", on: "Activer le micro", off: "Couper le micro", onChange: (v) => room.setState({ muted: v }) }),
    toggle({ id: "video", on: "Activer la caméra", off: "Couper la caméra", onChange: (v) => room.setState({ video_off: v }) }),
    navigator.mediaDevices.getDisplayMedia ? h("button", { id: "share", class: "button control", type: "button", onclick: () => share(room, stream) }, "Partager l'écran") : null,
    toggle({ id: "audio-only", on: "Revenir à la vidéo", off: "Audio seul (connexion faible)", onChange: (v) => room.setState({ audio_only: v }) }),
    professional ? h("button", { id: "snapshot", class: "button control", type: "button", onclick: () => { room.send({ type: "snapshot" }); toast("Photo demandée au chariot…"); } }, "Prendre une photo") : null,
    documents ? documentButton() : null,
    dossierLink ? h("a", { class: "button control", href: dossierLink, target: "_blank", rel: "noopener" }, "Ouvrir le télédossier") : null,
    h("button", { id: "leave", class: "button control danger", type: "button", onclick: () => { room.leave(); show(endScreen("Vous avez quitté la salle", "Vous pouvez la rejoindre à nouveau avec le même lien tant qu'elle est ouverte.")); } }, "Quitter"));
  const resident = h("p", { class: "resident-on-call", hidden: true });
  if (role === "specialist") showResident(resident);
  const call = h("div", { class: "call" },
    h("div", { class: "stage" }, resident, role === "specialist" ? lobbyPanel(room) : null, cart.el, waiting, connection,
      h("div", { class: "tiles-row" }, others, me.el)), side, controls);
  const lobbyWait = h("section", { class: "card lobby-wait", hidden: true }, h("h1", {}, "Salle d'attente"),
    h("p", { class: "lobby-text" }, "Connexion…"),
    h("button", { class: "button secondary", type: "button", onclick: () => { room.leave(); show(endScreen("Vous avez quitté la salle d'attente", "Vous pouvez revenir avec le même lien tant que la salle est ouverte.")); } }, "Quitter"));
  root.replaceChildren(lobbyWait, call);
  call.hidden = Boolean(lobby);
  room.addEventListener("lobby_wait", ({ detail }) => {
    lobbyWait.querySelector(".lobby-text").textContent = detail.text;
    lobbyWait.hidden = false;
    call.hidden = true;
  });

  room.addEventListener("track", ({ detail }) => {
    if (detail.peer === "cart") { cart.setStream(detail.stream); waiting.hidden = true; }
  });
  peerTiles(room, others, { skip: (peer) => peer === "cart" });
  room.addEventListener("members", ({ detail }) => {
    const cartMember = room.members.get("cart");
    cart.setLabel(cartMember ? cartMember.name : "Chariot : en attente…");
    waiting.hidden = Boolean(cartMember);
    if (detail.changed && detail.changed.id === "cart") cart.setMember(detail.changed);
    if (detail.joined) toast(`${detail.joined.name} a rejoint la salle.`);
    if (detail.text) toast(detail.text);
  });
  room.addEventListener("welcome", ({ detail }) => {
    lobbyWait.hidden = true;
    call.hidden = false;
    const cartMember = detail.members.find((m) => m.id === "cart");
    cart.setLabel(cartMember ? cartMember.name : "Chariot : en attente…");
    waiting.hidden = Boolean(cartMember);
  });
  room.addEventListener("camera", ({ detail }) => { if (detail.notice) toast(detail.notice); });
  room.addEventListener("connection", ({ detail }) => { connection.hidden = detail.up; });
  room.addEventListener("error", ({ detail }) => toast(detail.text, "error"));
  room.addEventListener("unmute_request", ({ detail }) => {
    toast(`${detail.name} vous demande d'activer votre micro.`);
    const button = document.getElementById("mute");
    if (button && button.getAttribute("aria-pressed") === "true") button.classList.add("attention");
  });
  const endTitle = { removed: "Vous avez été retiré de la salle", refused: "Entrée refusée" };
  room.addEventListener("end", ({ detail }) => show(endScreen(endTitle[detail.type] || "La téléconsultation est terminée", detail.text)));
  room.connect();
}

// Identitovigilance: over the call, the resident this link's dossier is about, so that a wrong
// link or a wrong picture is seen at once. Only to the doctor whose link session (the code) is
// live: the link alone, forwarded or not, names nobody.
async function showResident(el) {
  const [, , room, token] = location.pathname.split("/");
  try {
    const reply = await fetch(`/api/v1/links/${encodeURIComponent(room)}/${encodeURIComponent(token)}/dossier`,
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
function documentButton() {
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

function show(node) {
  root.replaceChildren(node);
}

check();
