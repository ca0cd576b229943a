// Each sensor's state at a glance, under the top bar of every screen: a coloured dot, its name,
// what it does now (connected, silent, unplugged), its battery when it says it, and its numbers as
// they come (on the call's screen too, where the doctor sees the same). Nothing when the cart has
// no sensor. Follows the kiosk's one vitals socket (js/vitals.js).
import { h } from "../dom.js";
import { T } from "../i18n.js";
import { unitText, valueText, vitalsNow } from "../vitals.js";

const MAIN = ["spo2", "pulse_rate", "heart_rate", "temperature", "weight", "glucose", "cuff_pressure"];

// "138/84 mmHg · 74 /min", "97 % · 72 /min": a sensor's numbers now, in a few characters.
function numbersOf(sensorId) {
  const values = Object.values(vitalsNow().values).filter((v) => v.sensor === sensorId && v.value !== null && v.value !== undefined);
  const find = (q) => values.find((v) => v.quantity === q);
  const parts = [];
  if (find("systolic") && find("diastolic")) parts.push(`${valueText(find("systolic"))}/${valueText(find("diastolic"))} mmHg`);
  for (const q of MAIN) if (find(q)) parts.push(`${valueText(find(q))} ${unitText(find(q).unit)}`.trim());
  return parts.join(" · ");
}

const S = () => T.sensors;

function chip(sensor) {
  const battery = sensor.battery !== null && sensor.battery !== undefined ? ` · ${sensor.battery} %` : "";
  return h("li", { class: `sensor-chip ${sensor.state}`, "data-sensor": sensor.id, title: sensor.reason || sensor.model },
    h("span", { class: "dot", "aria-hidden": "true" }),
    h("span", { class: "name" }, sensor.name), " ",
    h("span", { class: "state" }, `${S().stateWord[sensor.state] || sensor.state}${battery}`), " ",
    h("span", { class: "now" }, sensor.state === "connected" ? numbersOf(sensor.id) : ""));
}

export function sensorStrip() {
  const list = h("ul", { class: "sensor-strip", "aria-label": S().headerLabel, hidden: true });
  const paint = () => {
    const sensors = [...vitalsNow().sensors.values()];
    list.hidden = sensors.length === 0;
    list.replaceChildren(...sensors.map(chip));
  };
  let queued = false;
  const heard = (event) => {
    if (!list.isConnected) { window.removeEventListener("telecart:vitals", heard); return; }
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; paint(); });  // numbers at the screen's pace, not the sensors'
  };
  window.addEventListener("telecart:vitals", heard);
  paint();
  return list;
}
