// « Imprimer » on a dossier's page: a PDF document of the dossier, or its report, sent to the
// EHPAD's printer through the cart's CUPS (agent/printing/). The job's state follows under the
// button in French (« envoyé à l'imprimante », « imprimé », « plus de papier »…): the agent waits
// a moment for the first outcome, then this polls GET …/print-jobs/{id} until the job is done.
// Nothing is printed from the browser: the agent prints only the PDFs the cart holds.
//
//   printButton({ dossierId, documentId, name })   a document (PDF) of the dossier
//   printButton({ dossierId })                      the report (compte rendu)
import { api } from "../api.js";
import { h } from "../dom.js";
import { T } from "../i18n.js";

const P = () => T.printing;

const POLL_MS = 2000;
const GIVE_UP_MS = 15 * 60 * 1000;  // the agent follows the job 30 min and audits its outcome; the page stops sooner

function badgeClass(job) {
  if (job.state === "printed") return "badge outcome-success";
  if (job.trouble || job.unreachable) return "badge outcome-failure";
  if (job.done) return "badge outcome-denied";
  return "badge state-scheduled";
}

// The button, the job's state as a badge, its sentence, and « Annuler » while it is not done.
export function printButton({ dossierId, documentId = null, name = "" }) {
  const path = documentId ? `/dossiers/${dossierId}/documents/${documentId}/print` : `/dossiers/${dossierId}/report/print`;
  const button = h("button", { class: "button secondary print", type: "button", "data-print": documentId || "report",
    "aria-label": documentId ? P().printDocument(name) : P().printReport }, documentId ? P().print : P().printReport);
  const state = h("div", { class: "print-state", role: "status", "aria-live": "polite" });
  state.style.display = "flex";
  state.style.flexWrap = "wrap";
  state.style.alignItems = "center";
  state.style.gap = "12px";
  const box = h("div", { class: "print-control" }, button, state);
  box.style.display = "flex";
  box.style.flexDirection = "column";
  box.style.gap = "8px";
  box.style.scrollMarginBottom = "120px";  // above a sticky bar of buttons (the fiche's « Enregistrer »)
  let timer = null;
  let since = 0;

  const say = (...children) => state.replaceChildren(...children.filter(Boolean));
  const failed = (error) => {
    clearTimeout(timer);
    button.disabled = false;
    if (error.code === "session_locked" || error.status === 401) say();  // the lock or login screen says it
    else say(h("p", { class: "alert", role: "alert" }, error.code === "network" ? P().agentAway : error.message));
  };

  function show(job) {
    const cancel = job.done ? null : h("button", { class: "button secondary danger", type: "button", onclick: () => cancelJob(job) }, P().cancel);
    say(h("span", { class: badgeClass(job), "data-state": job.state }, job.label), cancel,
      h("p", { class: "hint print-message" }, job.message));
    button.disabled = !job.done;  // one job at a time: a second would print twice once the paper is back
    clearTimeout(timer);
    if (!job.done) timer = setTimeout(() => poll(job), POLL_MS);
  }

  async function poll(job) {
    if (!box.isConnected) return;  // the page changed: the agent goes on following the job
    if (Date.now() - since > GIVE_UP_MS) {
      say(h("p", { class: "hint" }, P().still));
      button.disabled = false;
      return;
    }
    try {
      show(await api("GET", `/dossiers/${dossierId}/print-jobs/${job.id}`, undefined, { background: true }));
    } catch (error) {
      // The agent restarting, or the kiosk locked: the last state stays on screen, asked again later.
      if (error.code === "network" || error.code === "session_locked") timer = setTimeout(() => poll(job), POLL_MS * 2);
      else failed(error);
    }
  }

  async function cancelJob(job) {
    try {
      show(await api("DELETE", `/dossiers/${dossierId}/print-jobs/${job.id}`));
    } catch (error) {
      failed(error);
    }
  }

  button.addEventListener("click", async () => {
    button.disabled = true;
    since = Date.now();
    say(h("span", { class: "hint" }, P().sending));
    try {
      show(await api("POST", path, {}));
    } catch (error) {
      failed(error);
    }
    box.scrollIntoView({ block: "nearest" });  // the answer in sight (later polls leave the page where the nurse put it)
  });
  return box;
}
