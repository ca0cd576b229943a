// "Fin de téléconsultation" (seed 004, the screen when hanging up): rate the call, the amount to
// charge the patient, the PDFs to send them. The call issue opens it when the call ends; until
// then the dossier page's "Terminer la téléconsultation" does.
import { api } from "../api.js";
import { fill, h, reportError, toast } from "../dom.js";
import { T } from "../i18n.js";

const E = () => T.consultationEnd;

export function consultationEndView({ id, session, onDone }) {
  const root = h("div", { class: "end-page" }, h("p", { class: "hint" }, T.wizard.loading));
  api("GET", `/dossiers/${encodeURIComponent(id)}`).then((d) => {
    let rating = null;
    const stars = h("fieldset", { class: "choice stars" }, h("legend", {}, E().rating),
      ...[1, 2, 3, 4, 5].map((n) => h("label", { class: "option" },
        h("input", { type: "radio", name: "rating", value: String(n), onchange: () => { rating = n; } }), E().stars(n))));
    const comment = h("textarea", { id: "end-comment", rows: 2, maxlength: 1000 });
    const amount = h("input", { id: "end-amount", inputmode: "decimal", autocomplete: "off", placeholder: "25,00" });
    const pdfs = d.documents.filter((doc) => doc.mime === "application/pdf");
    const checks = pdfs.map((doc) => h("label", { class: "check" }, h("input", { type: "checkbox", value: doc.id }), doc.name));
    const alert = h("div", { class: "alert", role: "alert", hidden: true });
    // "Ajouter des correspondants" (seed 004): a relative or the attending doctor gets the same
    // documents, with their own link and code.
    const otherEmail = h("input", { id: "end-other-email", type: "email", autocomplete: "off" });
    const otherMobile = h("input", { id: "end-other-mobile", type: "tel", inputmode: "tel", autocomplete: "off" });
    const submit = h("button", { class: "button primary", type: "button" }, E().validate);
    submit.addEventListener("click", async () => {
      const euros = amount.value.trim().replace(",", ".");
      if (euros && !/^\d{1,4}(\.\d{1,2})?$/.test(euros)) {
        alert.textContent = E().badAmount;
        alert.hidden = false;
        return;
      }
      submit.disabled = true;
      try {
        const done = await api("POST", `/dossiers/${d.id}/end`, {
          rating, comment: comment.value.trim() || null, amount_cents: euros ? Math.round(Number(euros) * 100) : null,
          send: checks.filter((c) => c.firstChild.checked).map((c) => c.firstChild.value),
          also_to: otherEmail.value.trim() || otherMobile.value.trim() ? [{ email: otherEmail.value.trim(), mobile: otherMobile.value.trim() }] : [],
        });
        toast(E().done(done.sent));
        onDone();
      } catch (error) {
        submit.disabled = false;
        if (error.status === 401 || error.code === "session_locked") return;
        alert.textContent = error.message;
        alert.hidden = false;
      }
    });
    fill(root,
      h("h1", {}, E().title(d.patient.display_name)),
      alert,
      h("section", { class: "card form" }, h("h2", {}, E().evaluation), stars,
        h("div", { class: "field" }, h("label", { for: "end-comment" }, E().comment), comment)),
      h("section", { class: "card form" }, h("h2", {}, E().documents),
        pdfs.length ? h("div", {}, checks) : h("p", { class: "hint" }, E().noPdf),
        h("p", { class: "hint" }, E().documentsHint),
        pdfs.length ? h("div", { class: "form-row" },
          h("div", { class: "field" }, h("label", { for: "end-other-email" }, E().otherEmail), otherEmail),
          h("div", { class: "field" }, h("label", { for: "end-other-mobile" }, E().otherMobile), otherMobile)) : null),
      // A practice's cart charges the patient; an EHPAD's does not ([dossiers] patient_payment).
      session.patient_payment ? h("section", { class: "card form" }, h("h2", {}, E().payment),
        h("div", { class: "field amount" }, h("label", { for: "end-amount" }, E().amount), amount)) : null,
      h("div", { class: "actions-row" }, submit));
  }).catch((error) => { reportError(error); root.replaceChildren(h("p", {}, error.message)); });
  return root;
}
