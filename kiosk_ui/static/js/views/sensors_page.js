// The cart's sensors, for the nurse and the technician: each one's state, why it is not connected,
// its battery and when it last measured; a Bluetooth device paired here (a scan lists the health
// devices in range, the nearest first) and forgotten here. The list follows the vitals socket.
import { api } from "../api.js";
import { h, reportError, toast, twoTaps } from "../dom.js";
import { T, frWhen } from "../i18n.js";
import { vitalsNow } from "../vitals.js";

const P = () => T.sensorsPage;

function sensorRow(sensor, onForget) {
  const battery = sensor.battery !== null && sensor.battery !== undefined ? P().battery(sensor.battery) : null;
  return h("li", { class: `sensor-row ${sensor.state}`, "data-sensor": sensor.id },
    h("div", { class: "sensor-main" },
      h("strong", {}, sensor.name), " ",
      h("span", { class: "hint" }, `${sensor.model} · ${P().transport[sensor.transport] || sensor.transport}`),
      h("p", { class: "sensor-state" }, T.sensors.stateWord[sensor.state] || sensor.state, sensor.reason ? ` — ${sensor.reason}` : "",
        battery ? ` · ${battery}` : "", sensor.last_seen ? ` · ${P().lastSeen(frWhen(sensor.last_seen))}` : "")),
    sensor.transport === "bluetooth"
      ? h("button", { class: "button secondary", type: "button", onclick: twoTaps(P().forget, P().forgetConfirm, () => onForget(sensor)) }, P().forget)
      : null);
}

export function sensorsPage() {
  const list = h("ul", { class: "sensor-list" });
  const found = h("div", { class: "found" });
  const search = h("button", { class: "button primary", type: "button", "data-scan": "" }, P().scan);
  const root = h("div", { class: "records-page sensors-page" },
    h("div", {}, h("h1", {}, P().title), h("p", { class: "hint" }, P().lead)),
    h("section", { class: "card" }, list),
    h("section", { class: "card" }, h("h2", {}, P().pairTitle), h("p", { class: "hint" }, P().pairLead), search, found));

  const paint = () => {
    const sensors = [...vitalsNow().sensors.values()];
    list.replaceChildren(...(sensors.length ? sensors.map((s) => sensorRow(s, forget)) : [h("li", { class: "hint" }, P().none)]));
  };
  async function forget(sensor) {
    try {
      await api("DELETE", `/sensors/${sensor.id}`);
      toast(P().forgotten(sensor.name));
    } catch (error) {
      reportError(error);
    }
  }
  async function pair(device, button) {
    button.disabled = true;
    button.textContent = P().pairing;
    try {
      const sensor = await api("POST", "/bluetooth/pairings", { address: device.address });
      toast(P().paired(sensor.name));
      found.replaceChildren();
    } catch (error) {
      button.disabled = false;
      button.textContent = P().pair;
      reportError(error);
    }
  }
  search.addEventListener("click", async () => {
    search.disabled = true;
    found.replaceChildren(h("p", { role: "status" }, P().searching));
    try {
      const reply = await api("POST", "/bluetooth/scan", { seconds: 6 });
      found.replaceChildren(...(reply.found.length ? reply.found.map((device) => {
        const button = h("button", { class: "button primary", type: "button", "data-pair": device.address }, P().pair);
        button.addEventListener("click", () => pair(device, button));
        return h("div", { class: "found-device" },
          h("span", {}, h("strong", {}, device.name || P().unnamed), " ", h("span", { class: "hint" }, P().kind[device.kind] || device.kind)),
          button);
      }) : [h("p", {}, P().nothingFound)]));
    } catch (error) {
      found.replaceChildren();
      reportError(error);
    } finally {
      search.disabled = false;
    }
  });
  const heard = (event) => {
    if (!root.isConnected && list.childElementCount) { window.removeEventListener("telecart:vitals", heard); return; }
    if (["live", "sensor"].includes(event.detail.type)) paint();
  };
  window.addEventListener("telecart:vitals", heard);
  paint();
  return root;
}
