// "Paramètres" (seed 000 §2.3.3: the signature is loaded once in one's settings), and the practice mode.
import { h } from "../dom.js";
import { T } from "../i18n.js";
import { signatureBox } from "./dossier_documents.js";
import { practiceCard } from "./practice.js";

export function settingsView() {
  return h("div", { class: "end-page" },
    h("h1", {}, T.settingsTitle),
    h("section", { class: "card form" }, h("p", {}, T.settingsLead), signatureBox()),
    practiceCard());
}
