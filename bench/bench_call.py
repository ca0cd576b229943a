"""The call on loopback: the cart's simulated camera (1280x720, 30 fps) sent by the agent (aiortc,
VP8) to Chromium pages that joined through their invitation links, against Chromium sending the
same kind of picture to Chromium, and against PyAV encoding the same frames alone.

Figures (bench/README.md, "The call"):
- time from the viewer's click on « Rejoindre » to the first frame its <video> presents;
- glass-to-glass latency p50/p95: each frame carries its capture time as blocks
  (drivers/camera/stamp.py), read back by the browser on every presented frame; measured as a
  participant sees the cart (picture in step with the cart's sound), and for the video path alone
  (the viewer's lip sync turned off), against Chromium to Chromium (video only);
- frames per second presented by the browser;
- the agent process's CPU (psutil) while one, two and three viewers receive, against PyAV
  encoding the same frames with aiortc's VP8 settings in this process.

The viewers are receive-only (their getUserMedia is made to fail, so the page offers to join
without camera or microphone): the participants' mesh would otherwise encode and decode their
own cameras on the same 2-core machine and blur what the cart costs.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psutil
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from bench._common import figure, percentile, scratch_dir

WIDTH, HEIGHT, FPS = 1280, 720, 30
SETTLE_S = 3.0  # after a viewer joins: the sender's bitrate climbs (aiortc starts VP8 at 500 kbit/s)
WINDOW_S = 8.0  # each measurement window (CPU, latency, fps)
PYAV_BLOCK_S = 5.0  # PyAV alone, twice: before the call and after it
CHROMIUM_WARMUP_S = 4.0
FIRST_FRAME_TIMEOUT_MS = 20_000
PLAUSIBLE_DELAY_MS = (-50, 5_000)  # a stamp misread (a flipped high bit) lands far outside

# Makes the participant's camera check fail: the page then joins "sans caméra ni micro" and only
# receives (see the module's docstring).
RECEIVE_ONLY = """
if (navigator.mediaDevices) {
  navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException("bench: receive only", "NotFoundError"));
}
"""

# For one measurement only: the viewer's browser stops synchronising the cart's video with its
# sound (lip sync). The cart's offer puts its microphone and camera in one stream; this page moves
# the audio to a stream of its own before Chromium reads the offer, and still hands the page's
# tile one stream holding both tracks. What is left is the video path alone, as in the
# Chromium-to-Chromium yardstick (which sends no sound).
NO_LIP_SYNC = """
(() => {
  const setRemote = RTCPeerConnection.prototype.setRemoteDescription;
  RTCPeerConnection.prototype.setRemoteDescription = function (description) {
    if (description && description.type === "offer" && description.sdp) {
      const sections = description.sdp.split("m=");
      const sdp = sections.map((m) => m.startsWith("audio") ? m.replace(/msid:\\S+ /g, "msid:bench-audio-alone ") : m).join("m=");
      description = { type: "offer", sdp };
    }
    return setRemote.call(this, description);
  };
  const ontrack = Object.getOwnPropertyDescriptor(RTCPeerConnection.prototype, "ontrack");
  Object.defineProperty(RTCPeerConnection.prototype, "ontrack", {
    configurable: true,
    get() { return ontrack.get.call(this); },
    set(handler) {
      const both = new MediaStream();
      ontrack.set.call(this, (event) => { both.addTrack(event.track); handler({ track: event.track, streams: [both] }); });
    },
  });
})();
"""

# Clicks the join button and resolves with the milliseconds from the click to the first frame
# the cart's <video> presents (requestVideoFrameCallback).
JOIN_AND_FIRST_FRAME = """
async (timeoutMs) => {
  const button = Array.from(document.querySelectorAll("button")).find((b) => b.textContent.startsWith("Rejoindre") && !b.disabled);
  if (!button) throw new Error("no enabled « Rejoindre » button");
  const t0 = performance.now();
  button.click();
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no frame from the cart within " + timeoutMs + " ms")), timeoutMs);
    const look = () => {
      const video = document.querySelector("video[data-peer=cart]");
      if (video && video.srcObject) video.requestVideoFrameCallback(() => { clearTimeout(timer); resolve(performance.now() - t0); });
      else setTimeout(look, 2);
    };
    look();
  });
}
"""

# Starts reading a <video> for `seconds` (returns at once; COLLECT_PROBE waits for the result).
# On every presented frame: the stamp's blocks are read at their centres, scaled to the frame's
# real size (a browser sender may send less than 1280x720), from the top strip only (cheap).
START_PROBE = """
([selector, seconds, refWidth, refHeight]) => {
  // The receiver's own share of the delay (Chromium's inbound-rtp counters, over the window):
  // waiting in the jitter buffer, decoding, and from the first packet to the decoded frame.
  const counters = async () => {
    const pc = window.telecartRoom ? window.telecartRoom.pcs.get("cart") : window.__benchPc;
    if (!pc) return null;
    const found = {};
    for (const s of (await pc.getStats()).values()) {
      if (s.type === "inbound-rtp" && s.kind === "video") Object.assign(found, { buffer: s.jitterBufferDelay, emitted: s.jitterBufferEmittedCount,
        decode: s.totalDecodeTime, processing: s.totalProcessingDelay, decoded: s.framesDecoded });
      if (s.type === "inbound-rtp" && s.kind === "audio") Object.assign(found, { audio_buffer: s.jitterBufferDelay,
        audio_emitted: s.jitterBufferEmittedCount, audio_target: s.jitterBufferTargetDelay });
    }
    return "buffer" in found ? found : null;
  };
  window.__benchProbe = (async () => {
    const video = document.querySelector(selector);
    if (!video || !video.srcObject) return null;
    const before = await counters();
    const canvas = document.createElement("canvas");
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    const delays = [], sizes = {};
    let frames = 0, first = null, last = null, unreadable = 0;
    const readStamp = () => {
      const w = video.videoWidth, h = video.videoHeight;
      if (!w) return null;
      const sx = w / refWidth, sy = h / refHeight;
      const stripW = Math.min(w, Math.ceil(16 * 43 * sx)), stripH = Math.max(1, Math.ceil(16 * sy));
      canvas.width = stripW; canvas.height = stripH;
      ctx.drawImage(video, 0, 0, stripW, stripH, 0, 0, stripW, stripH);
      const y = Math.min(stripH - 1, Math.floor(8 * sy));
      const row = ctx.getImageData(0, y, stripW, 1).data;
      const at = (i) => row[Math.min(stripW - 1, Math.floor((16 * i + 8) * sx)) * 4];
      if (at(0) < 128) return null;
      let value = 0;
      for (let i = 1; i < 43; i++) value = value * 2 + (at(i) >= 128 ? 1 : 0);
      return value;
    };
    await new Promise((resolve) => {
      const end = performance.now() + seconds * 1000;
      const tick = (now, meta) => {
        frames += 1;
        first = first ?? meta.presentedFrames;
        last = meta.presentedFrames;
        const key = video.videoWidth + "x" + video.videoHeight;
        sizes[key] = (sizes[key] || 0) + 1;
        const stamp = readStamp();
        if (stamp === null) unreadable += 1; else delays.push(Date.now() - stamp);
        if (performance.now() < end) video.requestVideoFrameCallback(tick); else resolve();
      };
      video.requestVideoFrameCallback(tick);
    });
    const after = await counters();
    const per = (key, count) => before && after && after[count] > before[count]
      ? 1000 * (after[key] - before[key]) / (after[count] - before[count]) : null;
    const receiver = { jitter_buffer_ms: per("buffer", "emitted"), decode_ms: per("decode", "decoded"), processing_ms: per("processing", "decoded"),
                       audio_jitter_buffer_ms: per("audio_buffer", "audio_emitted"), audio_target_ms: per("audio_target", "audio_emitted") };
    return { fps: (last - first) / seconds, delays, sizes, unreadable, receiver };
  })();
}
"""
COLLECT_PROBE = "() => window.__benchProbe"

# --- Chromium to Chromium: the yardstick --------------------------------------------------------

_GATHERED = """
const gathered = (pc) => pc.iceGatheringState === "complete" ? Promise.resolve() : new Promise((resolve) => {
  const timer = setTimeout(resolve, 2000);
  pc.addEventListener("icegatheringstatechange", () => { if (pc.iceGatheringState === "complete") { clearTimeout(timer); resolve(); } });
});
"""

# A canvas drawn like the cart's simulated camera (a gradient, a band of text that changes, the
# stamp in the same blocks), sent with VP8 at its full size.
CANVAS_SENDER_OFFER = """
async ([w, h, fps]) => {
""" + _GATHERED + """
  const canvas = document.createElement("canvas");
  canvas.width = w; canvas.height = h;
  document.body.append(canvas);
  const ctx = canvas.getContext("2d");
  const gradient = ctx.createLinearGradient(0, 0, 0, h);
  gradient.addColorStop(0, "rgb(78, 70, 58)"); gradient.addColorStop(1, "rgb(138, 130, 118)");
  let count = 0;
  const draw = () => {
    count += 1;
    ctx.fillStyle = gradient; ctx.fillRect(0, 0, w, h);
    ctx.fillStyle = "#181818"; ctx.fillRect(0, 32, w, 54);
    ctx.fillStyle = "#e0e0e0"; ctx.font = "36px sans-serif";
    ctx.fillText(new Date().toISOString().slice(11, 23) + "   image " + String(count).padStart(6, "0"), 18, 72);
    const value = Date.now() % 2 ** 42;
    ctx.fillStyle = "#ebebeb"; ctx.fillRect(0, 0, 16, 16);
    for (let i = 0; i < 42; i++) {
      ctx.fillStyle = Math.floor(value / 2 ** (41 - i)) % 2 ? "#ebebeb" : "#101010";
      ctx.fillRect(16 * (i + 1), 0, 16, 16);
    }
  };
  draw();
  window.__benchDraw = setInterval(draw, 1000 / fps);
  const stream = canvas.captureStream(fps);
  const track = stream.getVideoTracks()[0];
  track.contentHint = "detail";  // keep 1280x720 (Chromium would start at 320x180 and climb for 15-20 s)
  const pc = new RTCPeerConnection({ iceServers: [] });
  window.__benchPc = pc;
  const transceiver = pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
  const codecs = RTCRtpSender.getCapabilities("video").codecs;
  transceiver.setCodecPreferences([...codecs.filter((c) => c.mimeType === "video/VP8"), ...codecs.filter((c) => c.mimeType === "video/rtx")]);
  window.__benchT0 = Date.now();
  await pc.setLocalDescription(await pc.createOffer());
  const params = transceiver.sender.getParameters();
  params.degradationPreference = "maintain-resolution";
  try { await transceiver.sender.setParameters(params); } catch (e) { /* older browsers: contentHint does it */ }
  await gathered(pc);
  return { sdp: pc.localDescription.sdp, t0: window.__benchT0 };
}
"""

RECEIVER_ANSWER = """
async (sdp) => {
""" + _GATHERED + """
  const video = document.createElement("video");
  video.autoplay = true; video.muted = true; video.playsInline = true; video.dataset.peer = "sender";
  document.body.append(video);
  const pc = new RTCPeerConnection({ iceServers: [] });
  window.__benchPc = pc;
  pc.ontrack = (event) => { video.srcObject = event.streams[0] || new MediaStream([event.track]); };
  window.__benchFirstFrame = new Promise((resolve) => {
    const look = () => {
      if (video.srcObject) video.requestVideoFrameCallback(() => resolve(Date.now()));
      else setTimeout(look, 2);
    };
    look();
  });
  await pc.setRemoteDescription({ type: "offer", sdp });
  await pc.setLocalDescription(await pc.createAnswer());
  await gathered(pc);
  return pc.localDescription.sdp;
}
"""

SENDER_ACCEPT = "async (sdp) => { await window.__benchPc.setRemoteDescription({ type: 'answer', sdp }); }"
FIRST_FRAME_AT = f"""
() => Promise.race([window.__benchFirstFrame,
                    new Promise((_, reject) => setTimeout(() => reject(new Error("no frame")), {FIRST_FRAME_TIMEOUT_MS}))])
"""
CLOSE_PC = "() => { if (window.__benchPc) window.__benchPc.close(); if (window.__benchDraw) clearInterval(window.__benchDraw); }"


# --- what a window measured -----------------------------------------------------------------------


@dataclass
class Reading:
    """What a probe read from one <video> over one window."""

    fps: float
    delays: list[float]
    sizes: dict[str, int]
    unreadable: int
    implausible: int = 0
    receiver: dict[str, float | None] | None = None  # the receiving Chromium's own share (ms per frame)

    @classmethod
    def of(cls, raw: dict[str, Any] | None) -> Reading:
        if raw is None:
            raise RuntimeError("the <video> had no stream when the probe started")
        low, high = PLAUSIBLE_DELAY_MS
        delays = [float(d) for d in raw["delays"]]
        good = [d for d in delays if low <= d <= high]
        if not good:
            raise RuntimeError(f"no readable stamp in {raw['unreadable']} frames (sizes {raw['sizes']})")
        receiver = {k: round(v, 1) for k, v in (raw.get("receiver") or {}).items() if v is not None}
        return cls(float(raw["fps"]), good, raw["sizes"], int(raw["unreadable"]), len(delays) - len(good), receiver or None)

    def p(self, q: float) -> float:
        return percentile(self.delays, q)

    def detail(self) -> dict[str, Any]:
        return {"samples": len(self.delays), "unreadable": self.unreadable, "implausible": self.implausible, "sizes": self.sizes,
                "receiver": self.receiver}


def _probe(pages: list[Page], selector: str, seconds: float) -> list[Reading]:
    """Reads every page's <video> over the same `seconds` (the probes run concurrently)."""
    for page in pages:
        page.evaluate(START_PROBE, [selector, seconds, WIDTH, HEIGHT])
    return [Reading.of(page.evaluate(COLLECT_PROBE)) for page in pages]


def _cpu_seconds(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system


# --- PyAV alone: the floor of the cart's sending --------------------------------------------------


def pyav_encoding(seconds: float) -> tuple[float, float, float]:
    """Draws frames with the cart's simulated camera and encodes them with libvpx as aiortc's
    Vp8Encoder sets it up (aiortc/codecs/vpx.py), at its starting bitrate (500 kbit/s: on
    loopback the cart stays close to it, see call.sent_kbps), in this process for `seconds` of
    wall time.
    Returns (CPU seconds per second, frames per second, kbit/s)."""
    import av
    from aiortc.codecs import vpx

    from agent.media.frames import CLOCK_RATE, TIME_BASE
    from drivers.camera import simulator

    camera = simulator.SimulatedCamera(simulator.ROOM, WIDTH, HEIGHT, FPS)
    bitrate = vpx.DEFAULT_BITRATE
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height = camera.width, camera.height
    codec.bit_rate = bitrate
    codec.pix_fmt = "yuv420p"
    codec.gop_size = 3000
    codec.qmin, codec.qmax = 2, 56
    codec.options = {
        "bufsize": str(bitrate), "cpu-used": "-6", "deadline": "realtime", "lag-in-frames": "0",
        "minrate": str(bitrate), "maxrate": str(bitrate), "noise-sensitivity": "4", "overshoot-pct": "15",
        "partitions": "0", "static-thresh": "1", "undershoot-pct": "100",
    }
    codec.thread_count = vpx.number_of_threads(camera.width * camera.height, multiprocessing.cpu_count())
    me = psutil.Process()
    epoch = time.monotonic()
    for _ in range(3):  # the first frames (a key frame, the encoder's set-up) are not the steady state
        frame = camera.read()
        frame.pts, frame.time_base = int((time.monotonic() - epoch) * CLOCK_RATE), TIME_BASE
        codec.encode(frame)
    frames = size = 0
    cpu0, t0 = _cpu_seconds(me), time.monotonic()
    while time.monotonic() - t0 < seconds:
        frame = camera.read()
        frame.pts, frame.time_base = int((time.monotonic() - epoch) * CLOCK_RATE), TIME_BASE
        for packet in codec.encode(frame):
            size += packet.size
        frames += 1
    wall = time.monotonic() - t0
    cpu = _cpu_seconds(me) - cpu0
    camera.close()
    return cpu / wall, frames / wall, size * 8 / wall / 1000


# --- Chromium to Chromium -------------------------------------------------------------------------


@dataclass
class ChromiumCall:
    first_frame_ms: float
    reading: Reading


def chromium_to_chromium(browser: Browser) -> ChromiumCall:
    from tests.call.harness import new_page

    contexts: list[BrowserContext] = []
    try:
        sender_ctx, sender = new_page(browser)
        receiver_ctx, receiver = new_page(browser)
        contexts += [sender_ctx, receiver_ctx]
        offer = sender.evaluate(CANVAS_SENDER_OFFER, [WIDTH, HEIGHT, FPS])
        answer = receiver.evaluate(RECEIVER_ANSWER, offer["sdp"])
        sender.evaluate(SENDER_ACCEPT, answer)
        first_frame_ms = receiver.evaluate(FIRST_FRAME_AT) - offer["t0"]
        time.sleep(CHROMIUM_WARMUP_S)
        reading = _probe([receiver], "video[data-peer=sender]", WINDOW_S)[0]
        for page in (sender, receiver):
            page.evaluate(CLOSE_PC)
        return ChromiumCall(first_frame_ms, reading)
    finally:
        for context in contexts:
            context.close()


# --- the cart -------------------------------------------------------------------------------------


@dataclass
class Viewer:
    context: BrowserContext
    page: Page
    first_frame_ms: float


def _join(browser: Browser, link: str, lip_sync: bool = True) -> Viewer:
    """A receive-only participant opens `link` and clicks « Rejoindre »; returns once the cart's
    video presented its first frame."""
    from tests.call.harness import new_page

    context, page = new_page(browser)
    context.add_init_script(RECEIVE_ONLY + ("" if lip_sync else NO_LIP_SYNC))
    page.goto(link)
    page.locator("button:has-text('Rejoindre'):enabled").wait_for(timeout=15_000)
    first_frame_ms = float(page.evaluate(JOIN_AND_FIRST_FRAME, FIRST_FRAME_TIMEOUT_MS))
    return Viewer(context, page, first_frame_ms)


def _sent(stats_client: Any, url: str) -> dict[str, dict[str, Any]]:
    """The technician's /call/stats: per participant, what the cart sent (frames so far, bitrate
    since the previous call)."""
    reply = stats_client.get(url, timeout=10)
    reply.raise_for_status()
    return {row["id"]: row.get("sent") or {} for row in reply.json().get("participants", [])}  # none through Janus


@dataclass
class Window:
    cpu_per_s: float
    readings: list[Reading]
    sent_fps: list[float]
    sent_kbps: list[float]
    held_ms: list[float]  # the cart's own share of the delay, per viewer: camera frame to its sender
    sound_spread_ms: list[float]  # per viewer: how unevenly the sound left the cart (p5 to p95 of its lateness)

    @property
    def ms_per_frame(self) -> float | None:
        """The agent's CPU per frame it encoded and sent (all viewers together): what one viewer
        costs per frame, steadier than cpu_per_s when a busy machine lowers the frame rate."""
        sent = sum(self.sent_fps)
        return round(1000 * self.cpu_per_s / sent, 2) if sent else None

    def extra(self) -> dict[str, Any]:
        return {"fps": [round(r.fps, 1) for r in self.readings], "sent_fps": [round(f, 1) for f in self.sent_fps],
                "ms_per_frame": self.ms_per_frame, "held_ms": self.held_ms, "sound_spread_ms": self.sound_spread_ms}


def _window(agent: psutil.Process, viewers: list[Viewer], stats_client: Any, stats_url: str) -> Window:
    """SETTLE_S, then one window: the agent's CPU over WINDOW_S while every viewer's probe runs."""
    time.sleep(SETTLE_S)
    before = _sent(stats_client, stats_url)
    cpu0, t0 = _cpu_seconds(agent), time.monotonic()
    readings = _probe([v.page for v in viewers], "video[data-peer=cart]", WINDOW_S)
    wall = time.monotonic() - t0
    cpu = _cpu_seconds(agent) - cpu0
    after = _sent(stats_client, stats_url)
    sent_fps = [(after[k].get("frames_sent", 0) - before[k].get("frames_sent", 0)) / wall for k in after if k in before]
    sent_kbps = [float(after[k]["bitrate_kbps"]) for k in after if "bitrate_kbps" in after[k]]
    held_ms = [float(after[k]["held_ms"]) for k in after if after[k].get("held_ms") is not None]
    spread_ms = [float(after[k]["sound_spread_ms"]) for k in after if after[k].get("sound_spread_ms") is not None]
    return Window(cpu / wall, readings, sent_fps, sent_kbps, held_ms, spread_ms)


def _invite(cart: Any, dossier: dict[str, Any], name: str, first_name: str, email: str) -> Any:
    """Another professional invited into the call (POST /dossiers/{id}/invitations)."""
    return cart.nurse.post(cart.url(f"/dossiers/{dossier['id']}/invitations"), json={
        "role": "professional", "name": name, "first_name": first_name, "email": email})


def _link(dossier: dict[str, Any], role: str, agent_url: str, name: str | None = None) -> str:
    link = next(i["link"] for i in dossier["invitations"]
                if i["role"] == role and not i.get("revoked_at") and (name is None or i["name"] == name))
    return link if link.startswith("http") else agent_url + link


def _leave(viewer: Viewer) -> None:
    viewer.context.close()
    time.sleep(0.5)  # the socket's close reaches the room: the cart drops that peer


def through_janus(browser: Browser, mesh_one: Window) -> Iterator[dict[str, Any]]:
    """The same cart with every room through a real Janus on loopback (`sfu_from = 1`,
    tests/call/janus_server.py): one receive-only viewer, then four (a relative and three
    professionals). The cart publishes once whatever their number; Janus forwards."""
    from tests.call.harness import cart_with_mail
    from tests.call.janus_server import janus_server, unavailable

    why_not = unavailable()
    if why_not:
        yield {"name": "call.sfu.cpu.four_viewers", "error": why_not}
        return
    with scratch_dir("call-sfu") as work, janus_server(work) as janus, cart_with_mail(
        work, media={"camera_width": WIDTH, "camera_height": HEIGHT, "camera_fps": FPS},
        call={"video_codec": "VP8", "lobby": False, "sfu_url": janus.url, "sfu_from": 1, "max_remote_participants": 4,
              "sfu_admin_key": janus.admin_key},
    ) as cart:
        from agent.access.roles import Role
        from tests.api.helpers import logged_in

        assert cart.agent.proc is not None
        agent = psutil.Process(cart.agent.proc.pid)
        technician = logged_in(cart.agent, cart.agent.add_account(Role.TECHNICIAN))
        dossier = cart.dossier(accompaniment={
            "kind": "relative", "companion": {"name": "DURAND", "first_name": "Anne", "remote": True, "email": "anne.durand@example.org"}})
        if cart.nurse.post(cart.url(f"/dossiers/{dossier['id']}/call")).status_code != 200:
            raise RuntimeError("the cart could not enter the call through Janus")
        links = [_link(dossier, "relative", cart.agent.url)]
        for name, first_name in (("LEROY", "Claire"), ("MARTIN", "Paul"), ("NOEL", "Inès")):
            invited = _invite(cart, dossier, name, first_name, f"{first_name.lower()}.{name.lower()}@example.org")
            if invited.status_code != 201:
                raise RuntimeError(f"no participant: POST /dossiers/{{id}}/invitations answered {invited.status_code}")
            links.append(_link(invited.json(), "professional", cart.agent.url, name))
        viewers: list[Viewer] = []
        try:
            viewers.append(_join(browser, links[0]))
            yield figure("call.sfu.first_frame_ms", viewers[0].first_frame_ms, "ms")
            janus_cpu = janus.cpu_seconds()
            one = _window(agent, viewers, technician, cart.url("/call/stats"))
            yield figure("call.sfu.cpu.one_viewer", one.cpu_per_s, "cpu_s/s", baseline=mesh_one.cpu_per_s) | {
                "fps": [round(r.fps, 1) for r in one.readings], "g2g_p50_ms": one.readings[0].p(50)}
            for link in links[1:]:
                viewers.append(_join(browser, link))
            janus_cpu, started = janus.cpu_seconds(), time.monotonic()
            four = _window(agent, viewers, technician, cart.url("/call/stats"))
            janus_share = (janus.cpu_seconds() - janus_cpu) / (time.monotonic() - started)
            yield figure("call.sfu.cpu.four_viewers", four.cpu_per_s, "cpu_s/s", baseline=one.cpu_per_s) | {
                "fps": [round(r.fps, 1) for r in four.readings], "janus_cpu_s_per_s": round(janus_share, 3)}
            yield figure("call.sfu.four_viewers.fps_min", min(r.fps for r in four.readings), "fps", baseline=one.readings[0].fps)
            yield figure("call.sfu.four_viewers.g2g_p50_ms", max(r.p(50) for r in four.readings), "ms",
                         baseline=mesh_one.readings[0].p(50)) | {"each_p50_ms": [r.p(50) for r in four.readings],
                                                                  "receivers": [r.receiver for r in four.readings]}
        finally:
            for viewer in viewers:
                viewer.context.close()


def figures() -> Iterator[dict[str, Any]]:
    from agent.access.roles import Role
    from tests.api.helpers import logged_in
    from tests.call.harness import cart_with_mail, media_browser

    pyav_blocks = [pyav_encoding(PYAV_BLOCK_S)]  # before anything else runs
    with sync_playwright() as playwright:
        browser = media_browser(playwright)
        try:
            yardstick = chromium_to_chromium(browser)
            yard = yardstick.reading
            with scratch_dir("call") as work, cart_with_mail(
                work, media={"camera_width": WIDTH, "camera_height": HEIGHT, "camera_fps": FPS}, call={"video_codec": "VP8", "lobby": False},  # the media measured, not the waiting room
            ) as cart:
                assert cart.agent.proc is not None
                agent = psutil.Process(cart.agent.proc.pid)
                technician = logged_in(cart.agent, cart.agent.add_account(Role.TECHNICIAN))
                stats_url = cart.url("/call/stats")
                dossier = cart.dossier(accompaniment={
                    "kind": "relative",
                    "companion": {"name": "DURAND", "first_name": "Anne", "remote": True, "email": "anne.durand@example.org"}})
                entered = cart.nurse.post(cart.url(f"/dossiers/{dossier['id']}/call"))
                if entered.status_code != 200:
                    raise RuntimeError(f"the cart could not enter the call: {entered.status_code} {entered.text[:300]}")
                viewers: list[Viewer] = []
                try:
                    # The video path alone: one viewer whose browser does not lip-sync (the relative).
                    alone = _join(browser, _link(dossier, "relative", cart.agent.url), lip_sync=False)
                    viewers.append(alone)
                    video_only = _window(agent, [alone], technician, stats_url).readings[0]
                    yield figure("call.g2g_video.p50_ms", video_only.p(50), "ms", baseline=yard.p(50)) | {
                        "detail": video_only.detail(), "baseline_detail": yard.detail()}
                    yield figure("call.g2g_video.p95_ms", video_only.p(95), "ms", baseline=yard.p(95))
                    _leave(viewers.pop())

                    # One viewer as participants are, picture in step with the sound: the join page a
                    # specialist's « Rejoindre l'appel » opens, here through a professional's link (the
                    # specialist's own asks for a one-time code first).
                    first = _invite(cart, dossier, "LEROY", "Claire", "claire.leroy@example.org")
                    if first.status_code != 201:
                        raise RuntimeError(f"no participant: POST /dossiers/{{id}}/invitations answered {first.status_code}")
                    viewers.append(_join(browser, _link(first.json(), "professional", cart.agent.url, "LEROY")))
                    yield figure("call.first_frame_ms", viewers[0].first_frame_ms, "ms", baseline=yardstick.first_frame_ms)
                    one = _window(agent, viewers, technician, stats_url)
                    seen = one.readings[0]
                    yield figure("call.g2g.p50_ms", seen.p(50), "ms", baseline=yard.p(50)) | {"detail": seen.detail()}
                    yield figure("call.g2g.p95_ms", seen.p(95), "ms", baseline=yard.p(95))
                    yield figure("call.fps", seen.fps, "fps", baseline=yard.fps)
                    if one.sent_kbps and one.sent_fps:
                        yield figure("call.sent_kbps", one.sent_kbps[0], "kbit/s") | {"sent_fps": round(one.sent_fps[0], 1)}

                    # Two viewers: the relative comes back, as a participant this time.
                    viewers.append(_join(browser, _link(dossier, "relative", cart.agent.url)))
                    two = _window(agent, viewers, technician, stats_url)
                    yield figure("call.cpu.two_viewers", two.cpu_per_s, "cpu_s/s", baseline=one.cpu_per_s) | two.extra() | {
                        "baseline_ms_per_frame": one.ms_per_frame}

                    # Three viewers: another professional, invited during the call (when the agent can).
                    third = _invite(cart, dossier, "MARTIN", "Paul", "paul.martin@example.org")
                    if third.status_code == 201:
                        viewers.append(_join(browser, _link(third.json(), "professional", cart.agent.url, "MARTIN")))
                        three = _window(agent, viewers, technician, stats_url)
                        yield figure("call.cpu.three_viewers", three.cpu_per_s, "cpu_s/s", baseline=one.cpu_per_s) | three.extra() | {
                            "baseline_ms_per_frame": one.ms_per_frame}
                        yield figure("call.three_viewers.fps_min", min(r.fps for r in three.readings), "fps", baseline=seen.fps)
                        yield figure("call.three_viewers.g2g_p50_ms", three.readings[0].p(50), "ms", baseline=seen.p(50)) | {
                            "each_p50_ms": [r.p(50) for r in three.readings], "receivers": [r.receiver for r in three.readings],
                            "baseline_receiver": seen.receiver, "held_ms": three.held_ms, "baseline_held_ms": one.held_ms,
                            "sound_spread_ms": three.sound_spread_ms, "baseline_sound_spread_ms": one.sound_spread_ms}
                        # The same three without lip sync: what the picture's own path takes, the
                        # wait for the sound left out (the same viewers come back, their pages not syncing).
                        links = [_link(dossier, "relative", cart.agent.url), _link(first.json(), "professional", cart.agent.url, "LEROY"),
                                 _link(third.json(), "professional", cart.agent.url, "MARTIN")]
                        while viewers:
                            _leave(viewers.pop())
                        viewers.extend(_join(browser, link, lip_sync=False) for link in links)
                        alone3 = _window(agent, viewers, technician, stats_url)
                        yield figure("call.three_viewers.g2g_video_p50_ms", max(r.p(50) for r in alone3.readings), "ms",
                                     baseline=video_only.p(50)) | {"each_p50_ms": [r.p(50) for r in alone3.readings],
                                                                  "receivers": [r.receiver for r in alone3.readings], "held_ms": alone3.held_ms}
                    else:
                        yield {"name": "call.cpu.three_viewers",
                               "error": f"no third participant: POST /dossiers/{{id}}/invitations answered {third.status_code}"}
                finally:
                    for viewer in viewers:
                        viewer.context.close()
            yield from through_janus(browser, one)
        finally:
            browser.close()
    pyav_blocks.append(pyav_encoding(PYAV_BLOCK_S))  # after: averages out a drift of the machine's load
    cpu, fps, kbps = (sum(block[i] for block in pyav_blocks) / len(pyav_blocks) for i in range(3))
    yield figure("call.cpu.one_viewer", one.cpu_per_s, "cpu_s/s", baseline=cpu) | one.extra() | {
        "baseline_fps": round(fps, 1), "baseline_ms_per_frame": round(1000 * cpu / fps, 2) if fps else None,
        "baseline_kbps": round(kbps), "baseline_blocks": [round(block[0], 3) for block in pyav_blocks]}


def run() -> list[dict[str, Any]]:
    return list(figures())
