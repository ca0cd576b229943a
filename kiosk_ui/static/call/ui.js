// Pieces of the call's screen shared by the kiosk and a participant's join page: video tiles,
// the chat, the participants list and the control buttons. French, large, for a finger.
import { h, toast, twoTaps } from "/static/js/dom.js";

const ROLE = { cart: "Chariot", specialist: "Médecin requis", relative: "Proche", professional: "Professionnel de santé", guest: "Invité" };

export function videoTile({ id, label, mirrored = false, muted = false, main = false }) {
  const video = h("video", { autoplay: true, playsinline: true, muted, "data-peer": id, class: mirrored ? "mirrored" : null });
  video.muted = muted; // the attribute alone does not mute a stream
  const name = h("span", { class: "tile-name" }, label);
  const flags = h("span", { class: "tile-flags" });
  const el = h("figure", { class: `tile${main ? " main" : ""}`, "data-peer": id }, video, h("figcaption", {}, name, flags));
  return {
    el, video,
    setStream(stream) { if (video.srcObject !== stream) video.srcObject = stream; video.play().catch(() => {}); },
    setLabel(text) { name.textContent = text; },
    setMember(member) {
      flags.textContent = [member.muted ? "micro coupé" : "", member.video_off ? "vidéo coupée" : "",
        member.sharing ? "partage d'écran" : "", member.audio_only ? "connexion faible" : ""].filter(Boolean).join(" · ");
    },
  };
}

// The other participants' tiles in `container`: one per peer that sends media, labelled with its
// member's name and flags, gone with its connection. `onCount(n)` hears how many are shown.
export function peerTiles(room, container, { onCount = () => {}, skip = () => false } = {}) {
  const tiles = new Map();
  room.addEventListener("track", ({ detail }) => {
    if (skip(detail.peer)) return;
    let tile = tiles.get(detail.peer);
    if (!tile) {
      const member = room.members.get(detail.peer);
      tile = videoTile({ id: detail.peer, label: member ? member.name : "Participant" });
      if (member) tile.setMember(member);
      tiles.set(detail.peer, tile);
      container.append(tile.el);
    }
    tile.setStream(detail.stream);
    onCount(tiles.size);
  });
  room.addEventListener("peerclosed", ({ detail }) => {
    const tile = tiles.get(detail.peer);
    if (tile) { tile.el.remove(); tiles.delete(detail.peer); }
    onCount(tiles.size);
  });
  room.addEventListener("members", ({ detail }) => {
    if (detail.changed && tiles.get(detail.changed.id)) tiles.get(detail.changed.id).setMember(detail.changed);
  });
  return tiles;
}

export function chatPanel(room) {
  const list = h("ol", { class: "chat-list", "aria-live": "polite" });
  const input = h("input", { id: "chat-text", name: "chat-text", type: "text", maxlength: 2000, autocomplete: "off", placeholder: "Votre message…" });
  const add = (m) => {
    const at = m.at ? new Date(m.at).toLocaleTimeString("fr-FR", { hour: "2-digit", minute: "2-digit" }) : "";
    const mine = room.me && m.from === room.me.member;
    list.append(h("li", { class: `chat-item${mine ? " mine" : ""}${m.type === "notice" ? " notice" : ""}` },
      m.type === "notice" ? null : h("strong", {}, mine ? "Vous" : m.name), h("span", { class: "chat-at" }, at), h("p", {}, m.text)));
    list.scrollTop = list.scrollHeight;
  };
  room.addEventListener("welcome", (e) => { list.replaceChildren(); (e.detail.chat || []).forEach(add); });
  room.addEventListener("chat", (e) => add(e.detail));
  room.addEventListener("notice", (e) => add(e.detail));
  const form = h("form", { class: "chat-form", onsubmit: (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (text) { room.chat(text); input.value = ""; }
  } }, h("label", { for: "chat-text", class: "visually-hidden" }, "Message"), input, h("button", { class: "button primary", type: "submit" }, "Envoyer"));
  return h("section", { class: "side-panel chat", "aria-label": "Discussion" }, h("h2", {}, "Discussion"), list, form);
}

// `invited()`: on the kiosk, the people invited to the dossier's room, each {member, name, role,
// how}: those not in the room are listed as invited, not yet arrived, with what became of their link.
export function participantsPanel(room, { canModerate, invited = () => [] }) {
  const list = h("ul", { class: "member-list" });
  const render = () => {
    const absent = invited().filter((p) => !room.members.has(p.member)).map((p) => h("li", { class: "member invited", "data-invited": p.member },
      h("div", {}, h("strong", {}, p.name), h("span", { class: "hint" }, `${ROLE[p.role] || p.role} · invité(e), pas encore arrivé(e) · ${p.how}`))));
    list.replaceChildren(...absent, ...[...room.members.values()].map((m) => {
      const me = room.me && m.id === room.me.member;
      const actions = !me && canModerate() && m.role !== "cart" ? [
        m.muted ? h("button", { class: "button secondary", type: "button", onclick: () => { room.send({ type: "ask_unmute", to: m.id }); toast(`Demande envoyée à ${m.name}.`); } }, "Demander d'activer le micro") : null,
        dangerButton("Retirer", "Confirmer le retrait", () => room.send({ type: "remove", to: m.id })),
      ] : [];
      return h("li", { class: "member", "data-member": m.id },
        h("div", {}, h("strong", {}, me ? `${m.name} (vous)` : m.name), h("span", { class: "hint" }, ROLE[m.role] || m.role,
          m.muted ? " · micro coupé" : "", m.audio_only ? " · connexion faible" : "")),
        h("div", { class: "member-actions" }, actions));
    }));
  };
  room.addEventListener("welcome", render);
  room.addEventListener("members", render);
  return h("section", { class: "side-panel members", "aria-label": "Participants" }, h("h2", {}, "Participants"), list);
}

// Who waits in the lobby, for the moderators (the nurse at the kiosk, the specialist): the name
// they typed, whose link they came with, "Faire entrer" and "Refuser" (two taps). A sound when
// someone arrives, so that nobody waits unseen.
export function lobbyPanel(room) {
  const list = h("ul", { class: "lobby-list", "aria-live": "assertive" });
  const el = h("section", { class: "card lobby", "aria-label": "Salle d'attente", hidden: true },
    h("h2", {}, "Salle d'attente"), list);
  const whose = (w) => {
    const role = (ROLE[w.role] || w.role).toLowerCase();
    return w.invited_as ? ` attend · lien de ${w.invited_as} (${role})` : ` attend · lien d'${role}`;
  };
  room.addEventListener("lobby", ({ detail }) => {
    list.replaceChildren(...detail.waiting.map((w) => h("li", { class: "waiting-person", "data-waiting": w.id },
      h("div", {}, h("strong", {}, w.name), h("span", { class: "hint" }, whose(w))),
      h("div", { class: "member-actions" },
        h("button", { class: "button primary", type: "button", onclick: () => room.send({ type: "admit", to: w.id }) }, "Faire entrer"),
        dangerButton("Refuser", "Confirmer le refus", () => room.send({ type: "refuse", to: w.id }))))));
    el.hidden = detail.waiting.length === 0;
    if (detail.arrived) chime(); // the card itself is the notice: a toast would cover it
  });
  return el;
}

// Two notes, soft: someone is waiting. Counted on window for the tests (no speaker in CI).
export function chime() {
  window.telecartChimes = (window.telecartChimes || 0) + 1;
  try {
    const context = new AudioContext();
    [660, 880].forEach((frequency, i) => {
      const tone = context.createOscillator();
      const gain = context.createGain();
      tone.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, context.currentTime + i * 0.25);
      gain.gain.exponentialRampToValueAtTime(0.3, context.currentTime + i * 0.25 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, context.currentTime + i * 0.25 + 0.4);
      tone.connect(gain).connect(context.destination);
      tone.start(context.currentTime + i * 0.25);
      tone.stop(context.currentTime + i * 0.25 + 0.45);
    });
    setTimeout(() => context.close(), 1200);
  } catch { /* no sound device: the notice still shows */ }
}

// Removing or refusing someone is not undone: two taps (dom.js twoTaps).
function dangerButton(label, confirm, act) {
  return h("button", { class: "button secondary danger", type: "button", onclick: twoTaps(label, confirm, act) }, label);
}

// A toggle button whose label says what a tap will do ("Couper le micro" / "Activer le micro").
export function toggle({ id, on, off, active = false, onChange }) {
  const button = h("button", { id, class: "button control", type: "button", "aria-pressed": String(active) }, active ? on : off);
  // set(): show a state that changed elsewhere (the cart muted before the kiosk came back to the call).
  button.set = (value) => { button.setAttribute("aria-pressed", String(value)); button.textContent = value ? on : off; };
  button.addEventListener("click", () => {
    const now = button.getAttribute("aria-pressed") !== "true";
    button.set(now);
    button.classList.remove("attention");
    onChange(now);
  });
  return button;
}

export function endScreen(title, text) {
  return h("div", { class: "call-ended card" }, h("h1", {}, title), h("p", {}, text));
}

// Side panels one at a time behind large tabs: a 10-inch screen cannot show them all at once.
export function tabs(items) {
  const buttons = items.map((item, i) => h("button", {
    class: "tab", type: "button", role: "tab", id: `tab-${item.id}`, "aria-selected": String(i === 0),
    onclick: () => select(i) }, item.label));
  const select = (index) => items.forEach((item, i) => {
    buttons[i].setAttribute("aria-selected", String(i === index));
    item.panel.hidden = i !== index;
  });
  select(0);
  return h("div", { class: "tabbed" }, h("div", { class: "tabs", role: "tablist" }, buttons), items.map((item) => item.panel));
}
