// The sensors' live values in the fiche: one card per sensor with its numbers as they come, the
// pleth waveform of an oximeter, what the device says of itself (finger out, cuff loose), and one
// button that records its steady values into the dossier (with the device and the time; the agent
// records its own values, never numbers from this page). A blood pressure monitor has « Lancer la
// mesure ». The guided check-up (checkup.js) walks through the same cards one at a time.
import { api } from "../api.js";
import { h, reportError, toast } from "../dom.js";
import { T } from "../i18n.js";
import { drawPleth, plethOf, unitText, valueText, vitalsNow } from "../vitals.js";

const S = () => T.sensors;

// What each kind of sensor shows, and which fiche vitals it records.
export const SHOWN = {
  oximeter: { quantities: ["spo2", "pulse_rate", "perfusion_index"], kinds: ["spo2", "pulse"] },
  blood_pressure: { quantities: ["systolic", "diastolic", "pulse_rate", "cuff_pressure"], kinds: ["blood_pressure", "pulse"] },
  thermometer: { quantities: ["temperature"], kinds: ["temperature"] },
  scale: { quantities: ["weight"], kinds: ["weight"] },
  glucose_meter: { quantities: ["glucose"], kinds: ["glucose"] },
  heart_rate: { quantities: ["heart_rate"], kinds: ["pulse"] },
};

const HOLD_MS = 10 * 60 * 1000;  // the agent's HOLD_SECONDS: older, another resident may be on the cart

const recorded = new Set();  // held values already in a dossier: a second tap would record them twice
const heldKey = (v) => `${v.kind}@${v.sensor}@${v.at}`;

// The values of one sensor held now (steady or final, recent, not yet recorded): what its button records.
export function heldOf(sensorId, kinds) {
  const held = vitalsNow().held;
  return kinds.map((k) => held[`${k}@${sensorId}`])
    .filter((v) => v && Date.now() - Date.parse(v.received) < HOLD_MS && !recorded.has(heldKey(v)));
}

export async function recordHeld(dossierId, held) {
  const updated = await api("POST", `/dossiers/${dossierId}/vitals/measured`, { values: held.map((v) => ({ kind: v.kind, sensor: v.sensor })) });
  for (const v of held) recorded.add(heldKey(v));
  return updated;
}

// A blood pressure reads as one number, 138/84, as a nurse writes it; the rest one by one.
function shownNumbers(values) {
  const systolic = values.find((v) => v.quantity === "systolic");
  const diastolic = values.find((v) => v.quantity === "diastolic");
  const rest = values.filter((v) => v !== systolic && v !== diastolic);
  const numbers = rest.map((v) => h("span", { class: "number", "data-quantity": v.quantity },
    h("span", { class: "what" }, S().quantity[v.quantity] || v.quantity), valueText(v), " ", h("small", {}, unitText(v.unit))));
  if (systolic && diastolic) {
    numbers.unshift(h("span", { class: "number", "data-quantity": "pressure" }, h("span", { class: "what" }, S().quantity.pressure),
      `${valueText(systolic)}/${valueText(diastolic)}`, " ", h("small", {}, unitText(systolic.unit))));
  }
  return numbers;
}

export function sensorCard(sensor, { dossier, onRecorded, only } = {}) {
  const shown = SHOWN[sensor.kind] || { quantities: [], kinds: [] };
  const kinds = only || shown.kinds;
  const numbers = h("div", { class: "numbers", "aria-live": "polite" });
  const warning = h("p", { class: "warning", hidden: true });
  const status = h("p", { class: "status-line" });
  const record = h("button", { class: "button primary wraps", type: "button", hidden: true, "data-record": sensor.id });
  let justRecorded = false;  // until a new value is held
  const measure = sensor.kind === "blood_pressure"
    ? h("button", { class: "button secondary", type: "button", "data-measure": sensor.id, onclick: startMeasure }, S().measure) : null;
  const canvas = sensor.kind === "oximeter" ? h("canvas", { width: 520, height: 72, "aria-hidden": "true" }) : null;
  const card = h("section", { class: `live-sensor ${sensor.state}`, "data-sensor": sensor.id },
    h("h4", {}, sensor.name), numbers, canvas, warning, status,
    h("div", { class: "actions-row" }, measure, dossier ? record : null));
  if (canvas) drawPleth(canvas, () => plethOf(sensor.id));

  async function startMeasure() {
    try {
      toast((await api("POST", `/sensors/${sensor.id}/measure`)).message);  // the agent's sentence
    } catch (error) {
      reportError(error);
    }
  }

  record.addEventListener("click", async () => {
    const held = heldOf(sensor.id, kinds);
    if (!held.length) return;
    record.disabled = true;
    try {
      const updated = await recordHeld(dossier.id, held);
      toast(S().recorded(held.length));
      justRecorded = true;
      paint();
      if (onRecorded) onRecorded(updated, held);
    } catch (error) {
      reportError(error);
    } finally {
      record.disabled = false;
    }
  });

  function paint() {
    const now = vitalsNow();
    const current = now.sensors.get(sensor.id) || sensor;
    card.className = `live-sensor ${current.state}`;
    const values = shown.quantities.map((q) => now.values[`${q}@${sensor.id}`]).filter(Boolean);
    numbers.replaceChildren(...shownNumbers(values));
    const words = [...new Set(values.flatMap((v) => v.warnings || []))];
    warning.hidden = !words.length;
    warning.textContent = words.join(" · ");
    const held = heldOf(sensor.id, kinds);
    if (held.length) justRecorded = false;
    if (current.state !== "connected") {
      status.textContent = S().lost(current.name, current.reason);
      status.className = "status-line";
    } else if (held.length) {
      status.textContent = `${S().steady} ✓`;
      status.className = "status-line steady";
    } else if (justRecorded) {
      status.textContent = S().recordedMark;
      status.className = "status-line steady";
    } else {
      status.textContent = values.some((v) => v.value !== null && v.value !== undefined) ? S().settling : S().waiting;
      status.className = "status-line";
    }
    record.hidden = !held.length;
    record.textContent = `Enregistrer ${held.map((v) => `${S().short[v.kind]} ${v.value.replace(".", ",")} ${v.unit}`).join(" · ")}`;
  }

  let queued = false;
  const heard = (event) => {
    if (!card.isConnected) { window.removeEventListener("telecart:vitals", heard); return; }
    const e = event.detail;
    if (e.type === "reading" && e.sensor !== sensor.id) return;
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; paint(); });  // the screen's pace, not the sensor's 60 Hz
  };
  window.addEventListener("telecart:vitals", heard);
  paint();
  return card;
}

export function liveVitalsPanel({ dossier, onRecorded, onCheckup }) {
  const grid = h("div", { class: "live-vitals" });
  const checkup = onCheckup ? h("button", { class: "button secondary", type: "button", "data-checkup": "", onclick: onCheckup }, S().checkup) : null;
  const header = h("div", { class: "actions-row" }, h("h3", {}, S().panelTitle), checkup,
    h("a", { class: "button secondary", href: "#/capteurs" }, S().manage));
  const panel = h("div", { class: "live-vitals-panel" }, header, grid);
  let shownIds = null;
  const fill = () => {
    const sensors = [...vitalsNow().sensors.values()];
    const ids = sensors.map((s) => s.id).join(",");
    if (checkup) checkup.hidden = sensors.length === 0;
    if (ids === shownIds) return;  // a new or forgotten sensor: the cards are made again
    shownIds = ids;
    grid.replaceChildren(...(sensors.length ? sensors.map((s) => sensorCard(s, { dossier, onRecorded }))
      : [h("p", { class: "hint" }, S().noSensor)]));
  };
  const heard = (event) => {
    if (!panel.isConnected && shownIds !== null) { window.removeEventListener("telecart:vitals", heard); return; }
    if (event.detail.type === "live" || event.detail.type === "sensor") fill();
  };
  window.addEventListener("telecart:vitals", heard);
  fill();
  return panel;
}
