// The cart's live vitals on a doctor's call page, beside the picture: each sensor's numbers as the
// cart measures them, the oximeter's waveform, what the device says of itself (finger out, cuff
// loose), a value outside what a body can show marked « à vérifier », and a sensor that stops
// said at once. The room sends them to the specialist and professionals only (agent/call/vitals_relay.py).
import { h } from "/static/js/dom.js";
import { T } from "/static/js/i18n.js";
import { PLETH_SECONDS, drawPleth, unitText, valueText } from "/static/js/vitals.js";

const SHOWN = ["spo2", "pulse_rate", "heart_rate", "systolic", "diastolic", "cuff_pressure", "temperature", "weight", "glucose", "perfusion_index"];

export function vitalsPanel(room) {
  const list = h("div", { class: "call-vitals-list" });
  const panel = h("section", { class: "side-panel call-vitals", "aria-labelledby": "call-vitals-title", hidden: true },
    h("h2", { id: "call-vitals-title" }, "Constantes en direct"), list);
  const pleth = new Map();  // sensor -> [{at, value}]
  const cards = new Map();

  function card(sensor) {
    if (cards.has(sensor.id)) return cards.get(sensor.id);
    const numbers = h("div", { class: "numbers" });
    const said = h("p", { class: "warning", hidden: true });
    const state = h("span", { class: "state" });
    const canvas = sensor.kind === "oximeter" ? h("canvas", { width: 360, height: 60, "aria-hidden": "true" }) : null;
    const idle = h("p", { class: "hint", hidden: true }, "Pas de mesure en ce moment.");
    const el = h("div", { class: "call-sensor", "data-sensor": sensor.id }, h("h3", {}, sensor.name, " ", state), numbers, canvas, said, idle);
    if (canvas) drawPleth(canvas, () => pleth.get(sensor.id) || []);
    const made = { el, numbers, said, state, idle };
    cards.set(sensor.id, made);
    return made;
  }

  room.addEventListener("vitals", ({ detail }) => {
    panel.hidden = detail.sensors.length === 0;
    for (const [sensor, samples] of Object.entries(detail.pleth)) {
      const kept = (pleth.get(sensor) || []).concat(samples.map(([at, value]) => ({ at, value })));
      const last = kept.length ? kept[kept.length - 1].at : 0;
      pleth.set(sensor, kept.filter((s) => s.at > last - PLETH_SECONDS));
    }
    list.replaceChildren(...detail.sensors.map((sensor) => {
      const c = card(sensor);
      const connected = sensor.state === "connected";
      c.el.className = `call-sensor ${sensor.state}`;
      c.state.textContent = connected ? "" : `— ${T.sensors.stateWord[sensor.state] || sensor.state}`;
      const values = connected ? detail.values.filter((v) => v.sensor === sensor.id && SHOWN.includes(v.quantity)) : [];
      c.numbers.replaceChildren(...values.map((v) => h("span", { class: `number${v.implausible ? " implausible" : ""}`, "data-quantity": v.quantity },
        h("span", { class: "what" }, T.sensors.quantity[v.quantity] || v.quantity), valueText(v), h("small", {}, unitText(v.unit)),
        v.implausible ? h("span", { class: "check" }, "à vérifier") : null)));
      const words = connected ? [...new Set(values.flatMap((v) => v.warnings))] : [sensor.reason || "ne transmet plus"];
      c.said.hidden = !words.length;
      c.said.textContent = words.join(" · ");
      c.idle.hidden = !connected || values.length > 0;
      if (!connected) pleth.delete(sensor.id);
      return c.el;
    }));
  });
  return panel;
}
