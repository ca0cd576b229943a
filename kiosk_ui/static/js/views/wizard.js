// The teleconsultation creation wizard (seed 000 §2.2): RECHERCHE D'IDENTITÉ → VALIDATION DE
// L'IDENTITÉ → CONSENTEMENT → ACCOMPAGNANT → MÉDECIN REQUIS → CRÉNEAU → VALIDATION.
// Everything typed lives in one draft object, saved on the agent (per staff member) after every
// change: a reload, a lock or a power cut resumes where the nurse was; "Retour" keeps it all.
import { api } from "../api.js";
import { h, reportError, toast } from "../dom.js";
import { T } from "../i18n.js";
import { STEPS } from "./wizard_steps.js";

const SAVE_DELAY_MS = 600;

export function emptyDraft() {
  return {
    step: 0,
    search: {},
    creating: null,
    patient: null,
    consent: { given: null, comment: "" },
    accompaniment: { kind: null, companion: { name: "", first_name: "", remote: false, email: "", mobile: "" } },
    specialist: { mode: "directory", directory_id: null, directory_label: "", manual: { name: "", first_name: "", specialty: "", rpps: "", email: "", mobile: "" } },
    slot: { now: null, date: "", time: "", duration: 30 },
    reason: "",
  };
}

function stepBar(draft, goTo) {
  return h("ol", { class: "stepbar", "aria-label": T.wizard.progress },
    STEPS.map((step, i) => {
      const done = i < draft.step;
      const label = h("span", { class: "label" }, step.title);
      return h("li", { class: `${done ? "done" : ""} ${i === draft.step ? "current" : ""}`, "aria-current": i === draft.step ? "step" : null },
        done ? h("button", { type: "button", class: "stepbar-link", onclick: () => goTo(i) }, h("span", { class: "num" }, i + 1), label)
          : h("span", { class: "stepbar-link" }, h("span", { class: "num" }, i + 1), label));
    }));
}

export function wizardView({ onCreated }) {
  const root = h("div", { class: "wizard" });
  let draft = null;
  let saveTimer = null;

  async function save() {
    clearTimeout(saveTimer);
    saveTimer = null;
    try {
      await api("PUT", "/wizard/draft", { draft });
    } catch (error) {
      reportError(error);
    }
  }

  // Called by steps on every input: the draft reaches the agent shortly after typing stops.
  function changed() {
    clearTimeout(saveTimer);
    saveTimer = setTimeout(save, SAVE_DELAY_MS);
  }

  function goTo(step) {
    draft.step = Math.max(0, Math.min(STEPS.length - 1, step));
    save();
    render();
  }

  // Two taps, no browser dialog: the first arms the button for a few seconds.
  async function abandon(event) {
    const button = event.currentTarget;
    if (!button.dataset.armed) {
      button.dataset.armed = "1";
      button.textContent = T.wizard.abandonConfirm;
      setTimeout(() => { delete button.dataset.armed; button.textContent = T.wizard.abandon; }, 4000);
      return;
    }
    clearTimeout(saveTimer);
    try {
      await api("PUT", "/wizard/draft", { draft: null });
    } catch (error) {
      reportError(error);
    }
    draft = emptyDraft();
    render();
  }

  function render() {
    const step = STEPS[draft.step];
    const alert = h("div", { class: "alert", role: "alert", hidden: true });
    const ctx = {
      draft, changed, render,
      next: () => goTo(draft.step + 1),
      back: () => goTo(draft.step - 1),
      fail: (message) => { alert.textContent = message; alert.hidden = false; alert.scrollIntoView({ block: "nearest" }); },
      finish: async (dossier) => {
        clearTimeout(saveTimer);
        toast(T.wizard.created);
        onCreated(dossier);
      },
    };
    const body = step.render(ctx);
    const canGoOn = step.validate ? () => {
      const problem = step.validate(draft);
      if (problem) ctx.fail(problem);
      else ctx.next();
    } : null;
    root.replaceChildren(
      h("div", { class: "wizard-head" },
        h("div", {}, h("h1", {}, T.wizard.title), draft.patient && draft.step > 0 ? h("p", { class: "hint" }, T.wizard.forResident(draft.patient)) : null),
        h("button", { class: "button secondary", type: "button", onclick: abandon }, T.wizard.abandon)),
      stepBar(draft, goTo),
      h("section", { class: "card wizard-step", "aria-labelledby": "step-title" },
        h("h2", { id: "step-title" }, step.heading || step.title),
        alert,
        body),
      h("div", { class: "wizard-nav" },
        draft.step > 0 ? h("button", { class: "button secondary", type: "button", onclick: ctx.back }, T.wizard.back) : h("span"),
        canGoOn ? h("button", { class: "button primary", type: "button", "data-next": "", onclick: canGoOn }, T.wizard.next) : null),
    );
    const first = root.querySelector(".wizard-step input:not([type=radio]), .wizard-step textarea");
    if (first && !first.value) first.focus({ preventScroll: true });
  }

  (async () => {
    try {
      const { draft: saved } = await api("GET", "/wizard/draft");
      draft = saved ? { ...emptyDraft(), ...saved } : emptyDraft();
      if (saved) toast(T.wizard.resumed);
    } catch (error) {
      reportError(error);
      draft = emptyDraft();
    }
    render();
  })();
  return root;
}
