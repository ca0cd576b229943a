// A téléexpertise asked from a resident's page (POST /expertises; agent/api/routes/expertise.py):
// an expert's opinion in writing, without a call, by a deadline the nurse chooses. One screen: the
// resident's consent, the expert (from the directory, or typed), the reason and the question. The
// photos from the exam camera, the documents and the vitals are added next, on the dossier's page.
import { api } from "../api.js";
import { h, reportError, toast } from "../dom.js";

const DELAYS = [[24, "24 heures"], [48, "48 heures"], [72, "3 jours"], [168, "7 jours"]];

function field(label, attrs, tag = "input") {
  const id = `expertise-${attrs.name}`;
  return h("div", { class: "field" }, h("label", { for: id }, label), h(tag, { id, ...attrs }));
}

function choice(name, value, label, checked) {
  return h("label", { class: "option-line" }, h("input", { type: "radio", name, value, checked }), h("span", {}, label));
}

export function expertiseView({ patientId, onCreated, onCancel }) {
  const error = h("div", { class: "alert", role: "alert", hidden: true });
  const experts = h("select", { id: "expertise-directory", name: "directory_id" }, h("option", { value: "" }, "Saisir un expert à la main…"));
  const manual = h("div", { class: "manual-expert" },
    h("div", { class: "form-row" }, field("Nom de l'expert", { name: "name", autocomplete: "off" }), field("Prénom", { name: "first_name", autocomplete: "off" })),
    h("div", { class: "form-row" }, field("Spécialité", { name: "specialty", autocomplete: "off" }),
      field("RPPS (facultatif)", { name: "rpps", inputmode: "numeric", maxlength: 11, autocomplete: "off" })),
    h("div", { class: "form-row" }, field("E-mail", { name: "email", type: "email", autocomplete: "off" }),
      field("Téléphone portable", { name: "mobile", type: "tel", autocomplete: "off" })));
  experts.addEventListener("change", () => { manual.hidden = Boolean(experts.value); });
  api("GET", "/directory").then(({ items }) => {
    for (const p of items) experts.append(h("option", { value: String(p.id) }, `${p.display_name} — ${p.specialty}`));
  }).catch(reportError);
  const refusal = field("Pourquoi le consentement n'a pas été recueilli", { name: "consent_comment", autocomplete: "off" });
  refusal.hidden = true;
  const consent = h("fieldset", { class: "choices" }, h("legend", {}, "Consentement du résident à la téléexpertise"),
    choice("consent", "yes", "Recueilli auprès du résident ou de son représentant", true), choice("consent", "no", "Non recueilli (urgence, impossibilité)", false));
  consent.addEventListener("change", () => { refusal.hidden = consent.querySelector("input:checked").value === "yes"; });
  const form = h("form", { class: "form card expertise-form", novalidate: true },
    h("h1", {}, "Demander une téléexpertise"),
    h("p", { class: "hint" }, "L'expert donne son avis par écrit, sans appel, avant l'échéance : il reçoit un lien personnel, lit le télédossier et signe sa réponse. ",
      "Ajoutez ensuite les photos de la caméra d'examen, les documents et les constantes sur la page du télédossier."),
    consent, refusal,
    h("div", { class: "field" }, h("label", { for: "expertise-directory" }, "Expert"), experts), manual,
    field("Motif", { name: "reason", required: true, placeholder: "Plaie du talon gauche", autocomplete: "off" }),
    field("Question posée à l'expert", { name: "question", required: true, rows: 4 }, "textarea"),
    h("fieldset", { class: "choices delays" }, h("legend", {}, "Réponse attendue sous"),
      DELAYS.map(([hours, label]) => choice("deadline_hours", String(hours), label, hours === 48))),
    error,
    h("div", { class: "actions-row" },
      h("button", { class: "button secondary", type: "button", onclick: onCancel }, "Annuler"),
      h("button", { class: "button primary", type: "submit" }, "Envoyer la demande à l'expert")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const data = Object.fromEntries(new FormData(form));
    const given = data.consent === "yes";
    const specialist = experts.value ? { directory_id: Number(experts.value) }
      : Object.fromEntries(["name", "first_name", "specialty", "rpps", "email", "mobile"].filter((k) => data[k]).map((k) => [k, data[k].trim()]));
    try {
      const made = await api("POST", "/expertises", {
        patient_id: patientId, consent: given ? { given: true } : { given: false, comment: data.consent_comment || "" },
        specialist, reason: data.reason || "", question: data.question || "", deadline_hours: Number(data.deadline_hours),
      });
      toast("Demande de téléexpertise envoyée à l'expert.");
      onCreated(made);
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
    }
  });
  return h("div", { class: "expertise-page" }, form);
}
