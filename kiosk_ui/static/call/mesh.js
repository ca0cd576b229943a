// The room's client, shared by a participant's join page and the kiosk's call view: the
// signalling WebSocket and one RTCPeerConnection per other endpoint (see agent/call/room.py).
// - "cart": the cart's camera and microphone (aiortc), always offered by the cart;
// - "screen": the kiosk's browser, which receives participants and sends nothing;
// - "p<n>": another participant, both ways; whoever arrives last offers.
// Through Janus (a room of many, `sfu` in the welcome or a `topology` message): we send once, on
// the path "sfu" that we offer, and receive each other endpoint ("cart", "p<n>") on a path that
// the cart offers on Janus's behalf; nobody sends on a received path.
// Descriptions are sent whole (ICE gathered first): aiortc takes no trickled candidates.
import { stillOf } from "./still.js";

const GATHER_MS = 2000; // send what is gathered by then (an unreachable STUN server must not stall a call)
const DISCONNECTED_MS = 4000; // "disconnected" this long: the path is gone, make a new one
const STATS_MS = 2000;
const NO_PATH_MS = 15000; // no media path after this long: a firewall drops it (neither side ever says "failed")
// The large picture first: Janus takes the first rid for the highest layer. The small one is the
// cart's own small picture (sfu_quality.py): a quarter of the pixels at 15 frames a second.
const SIMULCAST = [
  { rid: "h", maxBitrate: 1_200_000 },
  { rid: "l", scaleResolutionDownBy: 2, maxBitrate: 250_000, maxFramerate: 15 },
];

export class Room extends EventTarget {
  constructor({ url, stream = null, screen = false }) {
    super();
    this.url = url;
    this.stream = stream; // the participant's camera and microphone (null: receive only)
    this.screen = screen; // true on the kiosk
    this.pcs = new Map();
    this.members = new Map();
    this.me = null;
    this.iceServers = [];
    this.policy = "all";
    this.state = { muted: false, video_off: false, sharing: false, audio_only: false };
    this.videoTrack = stream ? stream.getVideoTracks()[0] || null : null;
    this.ended = false;
    this.sfu = false;
    this.retries = 0;
    this.lastBytes = null;
  }

  connect() {
    const ws = new WebSocket(new URL(this.url, location.href).href.replace(/^http/, "ws"));
    this.ws = ws;
    ws.onmessage = (event) => {
      let message;
      try { message = JSON.parse(event.data); } catch { return; }
      this.onMessage(message).catch((error) => this.emit("problem", { text: String(error && error.message || error) }));
    };
    let opened = false;
    ws.onopen = () => { opened = true; this.retries = 0; this.refused = 0; this.emit("connection", { up: true }); };
    ws.onclose = () => {
      if (this.ws !== ws || this.ended) return;
      // Never opened, several times over: the link no longer opens the room (revoked, expired),
      // not a network drop. Say so rather than retry forever.
      this.refused = opened ? 0 : (this.refused || 0) + 1;
      if (this.refused >= 3 && navigator.onLine !== false) {
        this.leave();
        this.emit("end", { type: "closed", text: "Ce lien n'ouvre plus la salle (invitation annulée ou créneau terminé). Rouvrez le lien reçu pour en savoir plus." });
        return;
      }
      this.emit("connection", { up: false });
      // The network dropped: come back by ourselves, with the same link.
      const delay = Math.min(10000, 1000 * 2 ** this.retries++);
      setTimeout(() => { if (!this.ended) this.connect(); }, delay);
    };
    if (!this.statsTimer && !this.screen) this.statsTimer = setInterval(() => this.reportStats(), STATS_MS);
    if (!this.pingTimer) this.pingTimer = setInterval(() => this.send({ type: "ping" }), 20000);
  }

  emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  async onMessage(m) {
    switch (m.type) {
      case "welcome":
        this.closePeers();
        this.me = m.you;
        this.iceServers = m.ice_servers || [];
        this.policy = m.ice_transport_policy || "all";
        this.members = new Map(m.members.map((member) => [member.id, member]));
        this.sfu = Boolean(m.sfu);
        this.emit("welcome", m);
        if (m.lobby) this.emit("lobby", { waiting: m.lobby, arrived: null });
        if (!this.screen) {
          if (this.stateChanged()) this.send({ type: "state", ...this.state });
          await this.makePaths(m.members.filter((member) => member.id !== this.me.id), m.screen);
        }
        break;
      case "topology": // the room moves to Janus or back to the mesh: every path made again
        this.closePeers();
        this.sfu = Boolean(m.sfu);
        this.emit("topology", m);
        // Back on the mesh, the one of each pair with the smaller id offers (nobody arrived last).
        if (!this.screen) await this.makePaths([...this.members.values()].filter((member) => member.id > this.me.id), m.screen);
        break;
      case "endpoint": // the kiosk's browser (re)connected: participants send it their camera
        if (!this.screen && m.id === "screen" && this.stream) await this.offer("screen");
        break;
      case "joined":
        this.members.set(m.member.id, m.member);
        this.emit("members", { joined: m.member });
        break;
      case "member":
        this.members.set(m.member.id, m.member);
        this.applyAudioOnly(m.member);
        this.emit("members", { changed: m.member });
        break;
      case "left":
        this.members.delete(m.id);
        this.closePeer(m.id);
        if (m.id === "cart") this.closePeer("screen");
        this.emit("members", { left: m.id, text: m.text });
        break;
      case "signal":
        await this.onSignal(m.from, m.description);
        break;
      case "closed": case "removed": case "refused": case "ended":
        this.leave();
        this.emit("end", m);
        break;
      default:
        this.emit(m.type, m); // chat, notice, camera, unmute_request, lobby, lobby_wait, error, pong
    }
  }

  stateChanged() { return Object.values(this.state).some(Boolean); }

  // Our paths: through Janus, one that sends; on the mesh, one to each of `others` and the screen.
  async makePaths(others, screen) {
    if (this.sfu) {
      if (this.stream) await this.offer("sfu");
      return;
    }
    for (const member of others) if (member.role !== "cart") await this.offer(member.id);
    if (screen && this.stream) await this.offer("screen");
  }

  // The paths that carry our camera and voice.
  sendsTo(id) { return this.sfu ? id === "sfu" : id !== "cart"; }

  newPeer(id) {
    this.closePeer(id);
    const pc = new RTCPeerConnection({ iceServers: this.iceServers, iceTransportPolicy: this.policy });
    this.pcs.set(id, pc);
    pc.ontrack = (event) => {
      const stream = event.streams[0] || new MediaStream([event.track]);
      this.emit("track", { peer: id, stream, track: event.track });
    };
    let lost = null;
    const noPath = setTimeout(() => {
      if (this.pcs.get(id) === pc && !this.ended && pc.connectionState !== "connected") this.emit("nopath", { peer: id });
    }, NO_PATH_MS);
    pc.onconnectionstatechange = () => {
      this.emit("peerstate", { peer: id, state: pc.connectionState });
      if (pc.connectionState === "connected" || pc.connectionState === "closed") clearTimeout(noPath);
      clearTimeout(lost);
      if (pc.connectionState === "failed") this.repair(id, pc);
      else if (pc.connectionState === "disconnected") lost = setTimeout(() => this.repair(id, pc), DISCONNECTED_MS);
    };
    return pc;
  }

  // A broken path is replaced by the side that offered it: the cart for its own media and for
  // whatever comes through Janus, else us.
  repair(id, pc) {
    if (this.pcs.get(id) !== pc || this.ended) return;
    if (pc.offeredByMe) this.offer(id);
    else if (id === "cart" || this.sfu) this.send({ type: "reconnect", to: id });
  }

  addLocalTracks(pc, id) {
    // To the kiosk our media go one way; to another participant both ways, even without a camera.
    const audio = this.stream ? this.stream.getAudioTracks()[0] : null;
    const video = this.sendableVideo(id);
    const sending = id === "screen" || id === "sfu" ? "sendonly" : "sendrecv";
    const streams = this.stream ? [this.stream] : [];
    pc.addTransceiver(audio || "audio", { direction: audio ? sending : "recvonly", streams });
    // Through Janus our picture goes to everyone at once: sent twice (simulcast), so that Janus
    // gives a viewer whose link cannot carry the large one the small one (agent/call/sfu_path.py).
    const sendEncodings = id === "sfu" && video ? SIMULCAST : undefined;
    pc.addTransceiver(video || "video", { direction: this.videoTrack ? sending : "recvonly", streams, sendEncodings });
  }

  async offer(id) {
    const pc = this.newPeer(id);
    pc.offeredByMe = true;
    this.addLocalTracks(pc, id);
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    this.send({ type: "signal", to: id, description: { type: "offer", sdp: pc.localDescription.sdp } });
  }

  async onSignal(from, description) {
    if (description.type === "offer") {
      const pc = this.newPeer(from);
      await pc.setRemoteDescription(description);
      if (from !== "cart" && this.stream && !this.sfu) {
        // Our camera and voice on the transceivers of the other participant's offer.
        for (const transceiver of pc.getTransceivers()) {
          const audio = transceiver.receiver.track.kind === "audio";
          const has = audio ? this.stream.getAudioTracks().length > 0 : Boolean(this.videoTrack);
          if (!has) continue;
          await transceiver.sender.replaceTrack(audio ? this.stream.getAudioTracks()[0] : this.sendableVideo(from));
          transceiver.direction = "sendrecv";
          if (transceiver.sender.setStreams) transceiver.sender.setStreams(this.stream);
        }
      }
      await pc.setLocalDescription(await pc.createAnswer());
      await gathered(pc);
      this.send({ type: "signal", to: from, description: { type: "answer", sdp: pc.localDescription.sdp } });
    } else {
      const pc = this.pcs.get(from);
      if (pc && pc.signalingState === "have-local-offer") await pc.setRemoteDescription(description);
    }
  }

  // What we send `peerId`: the camera (or shared screen), or its still every few seconds when
  // « connexion faible » is chosen by us or by them (the kiosk's choice is the cart member's).
  sendableVideo(peerId) {
    const peer = this.members.get(peerId === "screen" ? "cart" : peerId);
    if (!this.state.audio_only && !(peer && peer.audio_only)) return this.videoTrack;
    if (!this.videoTrack) return null;
    if (!this.still || this.still.camera !== this.videoTrack) {
      if (this.still) this.still.stop();
      this.still = stillOf(this.videoTrack);
    }
    return this.still.track;
  }

  // --- what the person does ----------------------------------------------------------------

  setState(change) {
    Object.assign(this.state, change);
    if (this.stream) {
      this.stream.getAudioTracks().forEach((t) => { t.enabled = !this.state.muted; });
      if (this.videoTrack) this.videoTrack.enabled = !this.state.video_off;
    }
    this.send({ type: "state", ...this.state });
    if ("audio_only" in change || "sharing" in change) this.refreshVideoSenders();
  }

  // Screen sharing and the camera take turns on the same senders: nothing to renegotiate.
  useVideo(track) {
    this.videoTrack = track;
    this.refreshVideoSenders();
  }

  // Another camera or microphone chosen during the call (devices.js put its track in our stream):
  // it takes the old one's place on every sender, muted or not as we are, without renegotiating.
  useDevice(track) {
    if (track.kind === "video") {
      track.enabled = !this.state.video_off;
      if (!this.state.sharing) this.useVideo(track); // a shared screen stays; the camera comes back after it
      return;
    }
    track.enabled = !this.state.muted;
    for (const [id, pc] of this.pcs) {
      if (!this.sendsTo(id)) continue; // the cart, and Janus's paths to us, only send to us
      for (const t of pc.getTransceivers()) if (t.receiver.track.kind === "audio" && t.sender.track) t.sender.replaceTrack(track).catch(() => {});
    }
  }

  refreshVideoSenders() {
    for (const id of this.pcs.keys()) if (this.sendsTo(id)) this.resendVideo(id);
  }

  applyAudioOnly(member) {
    if (this.me && member.id !== this.me.id && !this.sfu) this.resendVideo(member.id === "cart" ? "screen" : member.id);
  }

  // What we send this peer as video: the camera, the shared screen, or nothing (audio only).
  resendVideo(id) {
    const pc = this.pcs.get(id);
    if (!pc) return;
    for (const t of pc.getTransceivers()) if (t.receiver.track.kind === "video") t.sender.replaceTrack(this.sendableVideo(id));
  }

  chat(text) { this.send({ type: "chat", text }); }

  closePeer(id) {
    const pc = this.pcs.get(id);
    if (pc) { pc.close(); this.pcs.delete(id); this.emit("peerclosed", { peer: id }); }
  }

  closePeers() { for (const id of [...this.pcs.keys()]) this.closePeer(id); }

  leave() {
    this.ended = true;
    clearInterval(this.statsTimer);
    clearInterval(this.pingTimer);
    this.closePeers();
    if (this.ws) this.ws.close();
  }

  // What we receive of the cart's video, for the technician's view and /metrics.
  async reportStats() {
    const pc = this.pcs.get("cart");
    if (!pc || pc.connectionState !== "connected") return;
    const report = await pc.getStats();
    const out = { type: "stats" };
    let pair = null;
    report.forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") {
        out.fps = s.framesPerSecond || 0;
        out.width = s.frameWidth || 0;
        out.height = s.frameHeight || 0;
        out.packets_lost = Math.max(0, s.packetsLost || 0);
        out.packets_received = s.packetsReceived || 0;
        out.jitter_ms = (s.jitter || 0) * 1000;
        const codec = s.codecId && report.get(s.codecId);
        if (codec) out.codec = codec.mimeType.replace("video/", "");
        if (this.lastBytes) out.bitrate_kbps = ((s.bytesReceived - this.lastBytes.bytes) * 8) / (s.timestamp - this.lastBytes.at);
        this.lastBytes = { bytes: s.bytesReceived, at: s.timestamp };
      }
      if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded") pair = s;
    });
    if (pair) {
      if (pair.currentRoundTripTime !== undefined) out.rtt_ms = pair.currentRoundTripTime * 1000;
      const local = report.get(pair.localCandidateId);
      if (local) out.candidate = local.candidateType;
    }
    this.lastStats = out;
    this.send(out);
    this.emit("stats", out);
  }
}

function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { clearTimeout(timer); pc.removeEventListener("icegatheringstatechange", check); resolve(); };
    const check = () => { if (pc.iceGatheringState === "complete") done(); };
    const timer = setTimeout(done, GATHER_MS);
    pc.addEventListener("icegatheringstatechange", check);
  });
}
