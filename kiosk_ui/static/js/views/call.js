// The cart in the call (seed 001 §3.2, seed 000 §2.4): the participants large, what the specialist
// sees of the resident in a corner (the local preview, so the nurse can aim the exam camera), the
// camera switch and the snapshot, the chat, the participants, and leaving.
import { api } from "../api.js";
import { h, reportError, toast } from "../dom.js";
import { holdIdle } from "../idle.js";
import { Room } from "/static/call/mesh.js";
import { chatPanel, participantsPanel, toggle, videoTile } from "/static/call/ui.js";

export function callView({ id, onEnded, onBack }) {
  const root = h("div", { class: "call kiosk-call" }, h("p", { class: "hint" }, "Entrée en salle…"));
  start();
  return root;

  async function start() {
    let call;
    try {
      call = await api("GET", "/call");
      if (!call.in_call || call.dossier_id !== id) call = await api("POST", `/dossiers/${encodeURIComponent(id)}/call`);
    } catch (error) {
      reportError(error);
      root.replaceChildren(h("div", { class: "card" }, h("p", {}, error.message),
        h("button", { class: "button secondary", type: "button", onclick: onBack }, "Revenir au télédossier")));
      return;
    }
    show(call);
  }

  function show(call) {
    const room = new Room({ url: "/ws/call", screen: true });
    window.telecartRoom = room; // for the tests and the technician's console
    const release = holdIdle();
    const tiles = new Map();
    const grid = h("div", { class: "remote-grid" });
    const waiting = h("p", { class: "waiting" }, "En attente des participants : ils rejoignent la salle avec le lien reçu.");
    const preview = h("img", { class: "preview", alt: "Ce que voit le médecin", src: "/api/v1/cameras/preview" });
    const cameras = h("div", { class: "camera-switch", role: "group", "aria-label": "Caméra" });
    const notice = h("p", { class: "camera-notice", hidden: true });
    const renderCameras = (state) => {
      cameras.replaceChildren(...state.cameras.map((c) => h("button", {
        class: `button ${c.id === state.active ? "primary" : "secondary"}`, type: "button", "data-camera": c.id,
        "aria-pressed": String(c.id === state.active), disabled: !c.available,
        onclick: async () => {
          try { renderCameras(await api("PUT", "/cameras/active", { camera: c.id })); } catch (error) { reportError(error); }
        },
      }, c.available ? c.label : `${c.label} (débranchée)`)));
      notice.textContent = state.notice || "";
      notice.hidden = !state.notice;
    };
    renderCameras(call.camera);
    const snapshot = h("button", { id: "snapshot", class: "button secondary", type: "button", onclick: async () => {
      snapshot.disabled = true;
      try {
        const doc = await api("POST", "/call/snapshot");
        toast(`Photo ajoutée au télédossier (${doc.width} × ${doc.height}).`);
      } catch (error) { reportError(error); } finally { snapshot.disabled = false; }
    } }, "Prendre une photo");
    const finish = () => { release(); room.leave(); onEnded(); };
    const leave = h("button", { id: "leave", class: "button danger", type: "button", onclick: async () => {
      leave.disabled = true;
      try { await api("DELETE", `/dossiers/${encodeURIComponent(id)}/call`); } catch (error) { reportError(error); }
      finish();
    } }, "Quitter la salle");
    const connection = h("p", { class: "connection", hidden: true }, "Connexion au chariot perdue : reconnexion…");
    root.replaceChildren(
      h("div", { class: "stage" }, grid, waiting, connection),
      h("aside", { class: "side" },
        h("section", { class: "card own-view" }, h("h2", {}, "Ce que voit le médecin"), preview, notice, cameras, snapshot),
        chatPanel(room), participantsPanel(room, { canModerate: () => true })),
      h("div", { class: "controls" },
        toggle({ id: "mute", on: "Activer le micro du chariot", off: "Couper le micro du chariot", onChange: (v) => room.setState({ muted: v }) }),
        toggle({ id: "video", on: "Activer la caméra", off: "Couper la caméra", onChange: (v) => room.setState({ video_off: v }) }),
        leave));

    room.addEventListener("track", ({ detail }) => {
      let tile = tiles.get(detail.peer);
      if (!tile) {
        const member = room.members.get(detail.peer);
        tile = videoTile({ id: detail.peer, label: member ? member.name : "Participant" });
        if (member) tile.setMember(member);
        tiles.set(detail.peer, tile);
        grid.append(tile.el);
      }
      tile.setStream(detail.stream);
      waiting.hidden = true;
    });
    room.addEventListener("peerclosed", ({ detail }) => {
      const tile = tiles.get(detail.peer);
      if (tile) { tile.el.remove(); tiles.delete(detail.peer); }
      waiting.hidden = tiles.size > 0;
    });
    room.addEventListener("members", ({ detail }) => {
      if (detail.joined) toast(`${detail.joined.name} a rejoint la salle.`);
      if (detail.changed && tiles.get(detail.changed.id)) tiles.get(detail.changed.id).setMember(detail.changed);
    });
    room.addEventListener("camera", ({ detail }) => { renderCameras(detail); if (detail.notice) toast(detail.notice); });
    room.addEventListener("connection", ({ detail }) => { connection.hidden = detail.up; });
    room.addEventListener("error", ({ detail }) => toast(detail.text, "error"));
    room.addEventListener("unmute_request", ({ detail }) => toast(`${detail.name} demande d'activer le micro du chariot.`));
    room.addEventListener("end", ({ detail }) => { toast(detail.text); finish(); });
    room.connect();
  }
}
