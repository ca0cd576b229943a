// The guided check-up (the seeds' « bilan », what Tessan and Nomadeec guide the nurse through): she
// picks the measures, the kiosk walks her through each device with a plain French instruction,
// waits for a steady reading, then records the whole set into the fiche in one step. Nothing
// measured before the check-up began can slip into it (POST /vitals/checkup forgets held values).
import { api } from "../api.js";
import { h, reportError, toast } from "../dom.js";
import { T, frTime } from "../i18n.js";
import { vitalsNow } from "../vitals.js";
import { heldOf, recordHeld, sensorCard } from "./live_vitals_panel.js";

const C = () => T.checkup;

function sensorFor(device) {
  const sensors = [...vitalsNow().sensors.values()].filter((s) => s.kind === device);
  return sensors.find((s) => s.state === "connected") || sensors[0] || null;
}

export function checkupView({ dossier, onDone, onClose }) {
  const body = h("div", {});
  const view = h("section", { class: "card checkup", role: "dialog", "aria-modal": "true", "aria-labelledby": "checkup-title" },
    h("h2", { id: "checkup-title" }, C().title), body);
  const results = [];  // {step, held: [...]} or {step, skipped: true}

  function choose() {
    const boxes = Object.entries(C().steps).map(([id, step]) => {
      const present = sensorFor(step.device);
      const box = h("input", { type: "checkbox", value: id, checked: Boolean(present) });
      return [box, h("label", {}, box, step.title, present ? null : h("span", { class: "hint" }, ` (${C().noDeviceShort})`))];
    });
    body.replaceChildren(h("p", {}, C().choose), h("div", { class: "choices" }, boxes.map(([, label]) => label)),
      h("div", { class: "actions-row" },
        h("button", { class: "button primary", type: "button", "data-start": "", onclick: () => start(boxes.filter(([b]) => b.checked).map(([b]) => b.value)) }, C().start),
        h("button", { class: "button secondary", type: "button", onclick: onClose }, C().cancel)));
  }

  async function start(stepIds) {
    if (!stepIds.length) return;
    try {
      await api("POST", "/vitals/checkup");
    } catch (error) {
      reportError(error);
      return;
    }
    results.length = 0;
    step(stepIds, 0);
  }

  function step(stepIds, index) {
    if (index >= stepIds.length) return summary();
    const id = stepIds[index];
    const spec = C().steps[id];
    const sensor = sensorFor(spec.device);
    const next = h("button", { class: "button primary", type: "button", "data-next": "", disabled: true }, C().next);
    const skip = h("button", { class: "button secondary", type: "button", "data-skip": "" }, C().skip);
    body.replaceChildren(
      h("p", { class: "hint" }, C().stepOf(index + 1, stepIds.length)),
      h("h3", {}, spec.title),
      h("p", { class: "instruction" }, spec.text),
      sensor ? sensorCard(sensor, { only: spec.kinds }) : h("p", { class: "warning" }, C().noDevice),
      h("div", { class: "actions-row" }, next, skip, h("button", { class: "button secondary", type: "button", onclick: onClose }, C().cancel)));
    const ready = () => {
      if (!next.isConnected) { window.removeEventListener("telecart:vitals", ready); return; }
      next.disabled = !sensor || heldOf(sensor.id, spec.kinds).length < spec.kinds.length;
    };
    window.addEventListener("telecart:vitals", ready);
    ready();
    next.addEventListener("click", () => { results.push({ spec, held: heldOf(sensor.id, spec.kinds) }); step(stepIds, index + 1); });
    skip.addEventListener("click", () => { results.push({ spec, skipped: true }); step(stepIds, index + 1); });
  }

  function summary() {
    const held = results.flatMap((r) => r.held || []);
    const save = h("button", { class: "button primary large", type: "button", "data-save-checkup": "", disabled: !held.length }, C().save);
    body.replaceChildren(h("h3", {}, C().summary),
      h("ul", { class: "results" }, results.flatMap((r) => (r.skipped
        ? h("li", {}, `${r.spec.title} : ${C().skipped}`)
        : r.held.map((v) => h("li", {}, `${v.label} : `, h("strong", {}, `${v.value.replace(".", ",")} ${v.unit}`),
          ` — ${v.device}, ${frTime(new Date(v.at))}${v.warnings.length ? ` (${v.warnings.join(", ")})` : ""}`))))),
      ...(held.length ? [] : [h("p", { class: "hint" }, C().nothing)]),
      h("div", { class: "actions-row" }, save, h("button", { class: "button secondary", type: "button", onclick: onClose }, C().cancel)));
    save.addEventListener("click", async () => {
      save.disabled = true;
      try {
        const updated = await recordHeld(dossier.id, held);
        toast(T.sensors.recorded(held.length));
        onDone(updated);
      } catch (error) {
        save.disabled = false;
        reportError(error);
      }
    });
  }

  choose();
  return view;
}
