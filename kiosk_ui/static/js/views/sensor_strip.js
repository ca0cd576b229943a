// Each sensor's state at a glance, under the top bar of every screen: a coloured dot, its name and
// what it does now (connected, silent, unplugged), its battery when it says it. Nothing when the
// cart has no sensor. Follows the kiosk's one vitals socket (js/vitals.js).
import { h } from "../dom.js";
import { T } from "../i18n.js";
import { vitalsNow } from "../vitals.js";

const S = () => T.sensors;

function chip(sensor) {
  const battery = sensor.battery !== null && sensor.battery !== undefined ? ` · ${sensor.battery} %` : "";
  return h("li", { class: `sensor-chip ${sensor.state}`, "data-sensor": sensor.id, title: sensor.reason || sensor.model },
    h("span", { class: "dot", "aria-hidden": "true" }),
    h("span", { class: "name" }, sensor.name), " ",
    h("span", { class: "state" }, `${S().stateWord[sensor.state] || sensor.state}${battery}`));
}

export function sensorStrip() {
  const list = h("ul", { class: "sensor-strip", "aria-label": S().headerLabel, hidden: true });
  const paint = () => {
    const sensors = [...vitalsNow().sensors.values()];
    list.hidden = sensors.length === 0;
    list.replaceChildren(...sensors.map(chip));
  };
  const heard = (event) => {
    if (!list.isConnected) { window.removeEventListener("telecart:vitals", heard); return; }
    if (event.detail.type === "sensor" || event.detail.type === "live") paint();
  };
  window.addEventListener("telecart:vitals", heard);
  paint();
  return list;
}
