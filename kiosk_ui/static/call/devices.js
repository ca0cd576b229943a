// The camera and microphone a participant uses (seed 001 §3.2 « Choisir le dispositif vidéo /
// audio »): the ones chosen last time on this browser (localStorage), a list of each once the
// browser has allowed them (before that it names none), and another one taken at any time, the
// check step or the call (its track replaces the old one in the same stream).
import { h, toast } from "/static/js/dom.js";

const KINDS = {
  videoinput: { key: "telecart-camera", label: "Caméra", unnamed: "Caméra", track: "video" },
  audioinput: { key: "telecart-micro", label: "Micro", unnamed: "Micro", track: "audio" },
};

function remembered(kind) {
  try { return localStorage.getItem(KINDS[kind].key); } catch { return null; }
}

function remember(kind, deviceId) {
  try { localStorage.setItem(KINDS[kind].key, deviceId); } catch { /* private browsing: chosen for this page only */ }
}

function wanted(kind, deviceId) {
  const base = kind === "videoinput" ? { width: 1280, height: 720 } : {};
  return deviceId ? { ...base, deviceId: { exact: deviceId } } : (kind === "videoinput" ? base : true);
}

// The devices chosen last time, when the browser still has them ("ideal" is not enough: Chromium
// may take its first camera anyway). Unplugged since, or not yet allowed: the browser's choice.
async function rememberedPresent() {
  const chosen = { videoinput: remembered("videoinput"), audioinput: remembered("audioinput") };
  if (!chosen.videoinput && !chosen.audioinput) return chosen;
  let present = [];
  try { present = (await navigator.mediaDevices.enumerateDevices()).map((d) => d.deviceId); } catch { /* none known */ }
  for (const kind of Object.keys(chosen)) if (!present.includes(chosen[kind])) chosen[kind] = null;
  return chosen;
}

export async function openDevices() {
  const media = navigator.mediaDevices;
  const chosen = await rememberedPresent();
  const ask = (video, kinds = chosen) => media.getUserMedia({
    video: video && wanted("videoinput", kinds.videoinput), audio: wanted("audioinput", kinds.audioinput) });
  try {
    try {
      return { stream: await ask(true) };
    } catch (error) {
      if (!chosen.videoinput && !chosen.audioinput) throw error;
      return { stream: await ask(true, {}) }; // the remembered one does not answer: another one
    }
  } catch (error) {
    try { // no camera, or refused: the voice alone is worth having
      return { stream: await ask(false, {}), problem: error };
    } catch {
      return { stream: null, problem: error };
    }
  }
}

export function problemText(error) {
  if (!error) return null;
  if (error.name === "NotAllowedError") return "Votre navigateur n'a pas donné accès à la caméra et au micro. Autorisez-les (icône à gauche de l'adresse), puis rechargez la page.";
  if (error.name === "NotFoundError") return "Aucune caméra ou aucun micro trouvé sur cet appareil. Vous pouvez rejoindre la salle pour voir et entendre le chariot.";
  if (!window.isSecureContext) return "Cette page n'est pas sécurisée (https) : le navigateur refuse la caméra. Ouvrez le lien exact reçu.";
  return "La caméra ou le micro ne répond pas. Fermez les autres applications qui les utilisent, puis rechargez la page.";
}

function current(stream, kind) {
  const track = KINDS[kind].track === "video" ? stream.getVideoTracks()[0] : stream.getAudioTracks()[0];
  return track ? track.getSettings().deviceId || "" : "";
}

// The new device's track in `stream` in place of the old one (stopped: its light goes off).
async function take(stream, kind, deviceId) {
  const constraints = { [KINDS[kind].track]: wanted(kind, deviceId) };
  const track = (await navigator.mediaDevices.getUserMedia(constraints)).getTracks()[0];
  const old = KINDS[kind].track === "video" ? stream.getVideoTracks()[0] : stream.getAudioTracks()[0];
  if (old) { track.enabled = old.enabled; stream.removeTrack(old); old.stop(); }
  stream.addTrack(track);
  return track;
}

// One list per kind the stream carries (no camera: no camera list); `onTrack(track)` hears of each
// device taken. A list of one device still shows, so that the person reads which one is used.
export function devicePickers(stream, onTrack) {
  const el = h("div", { class: "device-pickers" });
  if (!stream) return { el, refresh: () => {} };
  const selects = {};
  for (const kind of Object.keys(KINDS)) {
    const id = `device-${KINDS[kind].track}-${Math.random().toString(36).slice(2, 7)}`;
    const select = h("select", { id, "data-kind": kind });
    select.addEventListener("change", async () => {
      select.disabled = true;
      try {
        const track = await take(stream, kind, select.value);
        remember(kind, select.value);
        onTrack(track);
      } catch {
        toast(`Ce ${KINDS[kind].label.toLowerCase()} ne répond pas : il est peut-être utilisé par une autre application.`, "error");
      }
      select.disabled = false;
      refresh();
    });
    selects[kind] = h("div", { class: "field device-field" }, h("label", { for: id }, KINDS[kind].label), select);
  }
  async function refresh() {
    let devices = [];
    try { devices = await navigator.mediaDevices.enumerateDevices(); } catch { /* no list: the pickers stay hidden */ }
    for (const [kind, field] of Object.entries(selects)) {
      const select = field.querySelector("select");
      const mine = devices.filter((d) => d.kind === kind && d.deviceId);
      const using = current(stream, kind);
      select.replaceChildren(...mine.map((d, i) => h("option", { value: d.deviceId, selected: d.deviceId === using },
        d.label || `${KINDS[kind].unnamed} ${i + 1}`)));
      field.hidden = !using || mine.length === 0;
    }
  }
  el.append(...Object.values(selects));
  refresh();
  const plugged = () => {  // a headset plugged in mid-call shows up in the list
    if (el.isConnected) refresh();
    else navigator.mediaDevices.removeEventListener("devicechange", plugged);
  };
  navigator.mediaDevices.addEventListener("devicechange", plugged);
  return { el, refresh };
}
