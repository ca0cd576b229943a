// The sensors, heard as they measure: one WebSocket for the whole kiosk (/ws/vitals), opened once
// a nurse is logged in and reopened by itself (the agent restarting, the screen locked). Its first
// message is the whole picture; then each value, pleth sample, sensor state and value steady
// enough to record. Views read `vitalsNow()` and listen to "telecart:vitals" window events
// (detail: the event), drawing at the screen's pace, not the sensors'.
const state = { sensors: new Map(), values: {}, held: {}, connected: false };
const pleth = new Map();  // sensor id -> recent samples [{at, value}]
export const PLETH_SECONDS = 6;
let socket = null;
let retry = 1000;
let wanted = false;

function take(event) {
  if (event.type === "live") {
    state.sensors = new Map(event.sensors.map((s) => [s.id, s]));
    state.values = Object.fromEntries(event.values.map((value) => [`${value.quantity}@${value.sensor}`, value]));
    state.held = Object.fromEntries(event.held.map((held) => [`${held.kind}@${held.sensor}`, held]));
  } else if (event.type === "sensor") {
    state.sensors.set(event.id, event);
    if (event.state !== "connected") {
      for (const [key, value] of Object.entries(state.values)) if (value.sensor === event.id) delete state.values[key];
      pleth.delete(event.id);
    }
  } else if (event.type === "held") {
    state.held[`${event.kind}@${event.sensor}`] = event;
  } else if (event.type === "held_cleared") {
    state.held = {};
  } else if (event.type === "reading") {
    for (const quantity of event.gone || []) delete state.values[`${quantity}@${event.sensor}`];  // the agent says what no longer holds
    for (const [quantity, value] of Object.entries(event.values)) {
      state.values[`${quantity}@${event.sensor}`] = { ...value, quantity, sensor: event.sensor, flags: event.flags, warnings: event.warnings, at: event.at };
    }
    if (event.pleth !== null && event.pleth !== undefined) {
      const samples = pleth.get(event.sensor) || [];
      samples.push({ at: event.at, value: event.pleth });
      while (samples.length && samples[0].at < event.at - PLETH_SECONDS) samples.shift();
      pleth.set(event.sensor, samples);
    }
  }
  window.dispatchEvent(new CustomEvent("telecart:vitals", { detail: event }));
}

function open() {
  if (!wanted || socket) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws/vitals`);
  socket.addEventListener("open", () => { retry = 1000; state.connected = true; });
  socket.addEventListener("message", (message) => {
    try {
      const data = JSON.parse(message.data);
      for (const event of Array.isArray(data) ? data : [data]) take(event);  // the live picture, then lists of events
    } catch { /* a malformed message: the next one is whole */ }
  });
  socket.addEventListener("close", () => {
    socket = null;
    state.connected = false;
    if (wanted) setTimeout(open, retry);
    retry = Math.min(retry * 2, 15000);
  });
}

// Called when a session that may read health data begins, and when it ends.
export function followVitals(on) {
  wanted = on;
  if (on) open();
  else if (socket) socket.close();
}

export function vitalsNow() {
  return state;
}

export function plethOf(sensorId) {
  return pleth.get(sensorId) || [];
}

// A pleth waveform drawn in `canvas` at the screen's frame rate while it is on screen: `samples()`
// gives the recent [{at (s), value}] (the kiosk's from its socket, the doctor's from the room's batches).
export function drawPleth(canvas, samples) {
  const context = canvas.getContext("2d");
  let started = false;
  const frame = () => {
    if (!canvas.isConnected && started) return;
    started = started || canvas.isConnected;
    const points = samples();
    const { width, height } = canvas;
    context.clearRect(0, 0, width, height);
    if (points.length > 1) {
      const last = points[points.length - 1].at;
      const low = Math.min(...points.map((s) => s.value));
      const span = Math.max(1, Math.max(...points.map((s) => s.value)) - low);  // each device its own scale
      context.strokeStyle = "#0b6e4f";
      context.lineWidth = 3;
      context.beginPath();
      points.forEach((s, i) => {
        const x = width - ((last - s.at) / PLETH_SECONDS) * width;
        const y = height - ((s.value - low) / span) * (height - 6) - 3;
        if (i === 0) context.moveTo(x, y); else context.lineTo(x, y);
      });
      context.stroke();
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}

const UNITS = { "mm[Hg]": "mmHg", Cel: "°C", "[degF]": "°F", "[lb_av]": "lb", "1": "" };

// A UCUM unit as people read it.
export function unitText(ucum) {
  return ucum in UNITS ? UNITS[ucum] : ucum || "";
}

// A live value as the device gave it (its decimals), with a French comma; "--" when it has none.
export function valueText(value) {
  if (value.value === null || value.value === undefined) return "--";
  return value.value.toFixed(value.decimals || 0).replace(".", ",");
}
