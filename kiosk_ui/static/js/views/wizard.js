// The teleconsultation creation wizard (seed 000 §2.2): RECHERCHE D'IDENTITÉ → VALIDATION DE
// L'IDENTITÉ → CONSENTEMENT → ACCOMPAGNANT → MÉDECIN REQUIS → CRÉNEAU → VALIDATION.
// Everything typed lives in one draft object, saved on the agent (per staff member) after every
// change: a reload, a lock or a power cut resumes where the nurse was; "Retour" keeps it all.
import { api } from "../api.js";
import { h, reportError, toast, twoTaps } from "../dom.js";
import { T, frWhen } from "../i18n.js";
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

// `patientId`: started from a resident's page, that resident already chosen. `slot`
// ("2026-12-07T14:30", the cart's clock): started from a free slot of the agenda, that slot chosen.
export function wizardView({ onCreated, onOpenDossier, patientId = null, slot = null }) {
  const root = h("div", { class: "wizard" });
  let draft = null;
  let shownAlert = null;
  const saver = draftSaver(() => draft);
  saveOnTouchOutside(root, saver);

  // Called by steps on every input: the draft reaches the agent shortly after typing stops.
  function changed() {
    if (shownAlert) shownAlert.hidden = true;  // what it said is being corrected
    saver.later();
  }

  function goTo(step) {
    draft.step = Math.max(0, Math.min(STEPS.length - 1, step));
    saver.save();
    render();
  }

  const abandon = twoTaps(T.wizard.abandon, T.wizard.abandonConfirm, async () => {
    saver.cancel();
    await saver.put({ draft: null });
    draft = emptyDraft();
    render();
  });

  function render() {
    const step = STEPS[draft.step];
    const alert = h("div", { class: "alert", role: "alert", hidden: true });
    shownAlert = alert;
    const ctx = stepContext({ current: () => draft, alert, changed, render, goTo, saver, onCreated, onOpenDossier });
    const body = step.render(ctx);
    const canGoOn = step.validate ? () => {
      const problem = step.validate(draft);
      if (problem) ctx.fail(problem);
      else ctx.next();
    } : null;
    root.replaceChildren(...wizardScreen({ draft, step, alert, body, canGoOn, ctx, abandon, goTo }));
    focusFirstField(root);
  }

  // For the resident asked for: their identity to check next. Another resident's wizard under
  // way is not dropped behind the nurse's back: she chooses.
  async function startFor(resident) {
    draft = { ...emptyDraft(), step: 1, patient: { id: resident.id, display_name: resident.display_name, birth_date: resident.birth_date, sex: resident.sex } };
    history.replaceState(null, "", "#/nouvelle");  // a reload resumes this draft, it does not ask again
    await saver.save();
    render();
  }

  (async () => {
    const saved = await savedDraft();
    draft = saved || emptyDraft();
    if (patientId && draft.patient?.id !== patientId) {
      try {
        const resident = await api("GET", `/patients/${encodeURIComponent(patientId)}`);
        if (!saved || !(draft.patient || draft.creating || draft.step > 0)) return startFor(resident);
        root.replaceChildren(otherUnderWay(draft, resident, {
          resume: () => { history.replaceState(null, "", "#/nouvelle"); toast(T.wizard.resumed); render(); },
          start: () => startFor(resident),
        }));
        return;
      } catch (error) {
        reportError(error);
      }
    }
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(slot || "")) return startAt(slot, saved);
    if (saved) toast(T.wizard.resumed);
    render();
  })();

  // The slot tapped in the agenda goes into the draft, a new one or the one under way (the nurse
  // may have gone to the agenda to find a time); a reload resumes the draft, it does not ask again.
  async function startAt(chosen, saved) {
    const [date, time] = chosen.split("T");
    draft.slot = { ...draft.slot, now: false, date, time };
    history.replaceState(null, "", "#/nouvelle");
    await saver.save();
    const said = T.wizard.slotFromAgenda(frWhen(new Date(`${date}T${time}`).toISOString()));
    toast(saved ? `${said} ${T.wizard.resumed}` : said);
    render();
  }
  return root;
}

function otherUnderWay(draft, resident, { resume, start }) {
  const other = draft.patient ? draft.patient.display_name : T.wizard.newIdentity;
  return h("section", { class: "card other-draft", role: "alert" },
    h("h2", {}, T.wizard.otherTitle),
    h("p", {}, T.wizard.otherText(other, resident.display_name)),
    h("div", { class: "actions" },
      h("button", { class: "button secondary", type: "button", onclick: resume }, T.wizard.otherResume(other)),
      h("button", { class: "button primary", type: "button", "data-start-for": "", onclick: start }, T.wizard.otherStart(resident.display_name))));
}

// What a step may do: tell of a change, move on or back, say what is wrong, create the dossier.
// `current()` is the wizard's draft at the time (abandoning replaces it).
function stepContext({ current, alert, changed, render, goTo, saver, onCreated, onOpenDossier }) {
  return {
    draft: current(), changed, render,
    // Another dossier, the draft saved first: « Retour » in the browser or « Création » resumes it.
    openDossier: async (id) => { await saver.save(); onOpenDossier(id); },
    primary: null,  // a step's own main button, shown where "Suivant" is (the last step's)
    next: () => goTo(current().step + 1),
    back: () => goTo(current().step - 1),
    fail: (message) => { alert.textContent = message; alert.hidden = false; alert.scrollIntoView({ block: "nearest" }); },
    // Before the dossier is created (which drops the draft on the agent), no save may still be
    // on its way, or it would bring the draft of a dossier already made back to life.
    settle: async () => { saver.cancel(); await saver.saving(); },
    finish: async (dossier) => {
      saver.cancel();  // nothing of this wizard is saved again: a late save would bring back the draft of a created dossier
      toast(T.wizard.created);
      onCreated(dossier);
    },
  };
}

// The draft's way to the agent. One save at a time, in the order asked: two PUTs racing could
// leave the older draft on the agent. `later()` saves once typing has stopped for a moment.
function draftSaver(currentDraft) {
  let timer = null;
  let saving = Promise.resolve();
  const saver = {
    put(body) {
      saving = saving.then(() => api("PUT", "/wizard/draft", body)).catch(reportError);
      return saving;
    },
    save() {
      saver.cancel();
      return saver.put({ draft: currentDraft() });
    },
    later() {
      clearTimeout(timer);
      timer = setTimeout(saver.save, SAVE_DELAY_MS);
    },
    // No delayed save any more, and none waiting.
    cancel() {
      clearTimeout(timer);
      timer = null;
    },
    waiting: () => Boolean(timer),
    saving: () => saving,
  };
  return saver;
}

// A touch outside the wizard (Verrouiller, Se déconnecter, another page) saves what was just
// typed at once: once the kiosk is locked, the delayed save would be refused and the typing lost.
function saveOnTouchOutside(root, saver) {
  function flushOnLeave(event) {
    if (!root.isConnected) {
      window.removeEventListener("pointerdown", flushOnLeave, true);
      return;
    }
    if (saver.waiting() && !root.contains(event.target)) saver.save();
  }
  window.addEventListener("pointerdown", flushOnLeave, true);
}

// The draft saved on the agent, or null.
async function savedDraft() {
  try {
    const { draft: saved } = await api("GET", "/wizard/draft");
    return saved ? { ...emptyDraft(), ...saved } : null;
  } catch (error) {
    reportError(error);
    return null;
  }
}

// Title and "Abandonner", the step bar, the step's card, then the bar with "Retour" and "Suivant".
function wizardScreen({ draft, step, alert, body, canGoOn, ctx, abandon, goTo }) {
  return [
    h("div", { class: "wizard-head" },
      h("div", {}, h("h1", {}, T.wizard.title), draft.patient && draft.step > 0 ? h("p", { class: "hint" }, T.wizard.forResident(draft.patient)) : null),
      h("button", { class: "button secondary", type: "button", onclick: abandon }, T.wizard.abandon)),
    stepBar(draft, goTo),
    h("section", { class: "card wizard-step", "aria-labelledby": "step-title" },
      h("h2", { id: "step-title" }, step.heading || step.title),
      alert,
      body),
    // Empty on the first step (hidden): choosing a resident is what moves on.
    h("div", { class: "wizard-nav" },
      draft.step > 0 ? h("button", { class: "button secondary", type: "button", onclick: ctx.back }, T.wizard.back) : null,
      canGoOn ? h("button", { class: "button primary", type: "button", "data-next": "", onclick: canGoOn }, T.wizard.next) : ctx.primary),
  ];
}

// The field to type in first gets the focus; not a search over a list to tap nor an optional
// field, where the on-screen keyboard would only hide the screen.
function focusFirstField(root) {
  const first = root.querySelector(".wizard-step input:not([type=radio]):not([type=checkbox]):not([data-no-autofocus]), .wizard-step textarea");
  if (first && !first.value) first.focus({ preventScroll: true });
}
