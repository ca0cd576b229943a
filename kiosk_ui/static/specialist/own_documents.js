// What the specialist adds to the dossier from their page (agent/api/routes/link_documents.py): their
// signature image (once: kept for their later links to this cart), a file (PDF, JPEG, PNG; a PDF
// signed with their signature if they ask), and a prescription written here, made a signed,
// dated, read-only PDF in the dossier, which the cart's screen announces at once.
import { h, toast } from "/static/js/dom.js";

const KINDS = [["ordonnance", "Ordonnance"], ["compte_rendu", "Compte rendu"], ["courrier", "Courrier"], ["resultat", "Résultat d'examen"],
               ["photo", "Photo"], ["autre", "Autre document"]];

function alertBox() {
  return h("div", { class: "alert", role: "alert", hidden: true });
}

function say(box, error) {
  box.textContent = error.message;
  box.hidden = false;
}

// `call(method, path, body)`: the page's API with its CSRF token; `reload()`: the dossier again.
// `pdfs`: the dossier's PDF documents, which the doctor may send to the resident or a relative.
export async function ownDocuments({ linkApi, call, reload, pdfs }) {
  const { present } = await call("GET", `${linkApi}/signature-image`);
  return [signatureCard(linkApi, call, present, reload), prescriptionCard(linkApi, call, present, reload), addDocumentCard(linkApi, call, present, reload),
          ...(pdfs.length ? [sendCard(linkApi, call, pdfs)] : [])];
}

function sendCard(linkApi, call, pdfs) {
  const error = alertBox();
  const which = h("select", { id: "send-document" }, pdfs.map((doc) => h("option", { value: doc.id }, `${doc.name} (${doc.kind_label})`)));
  const email = h("input", { id: "send-email", type: "email", autocomplete: "off" });
  const mobile = h("input", { id: "send-mobile", type: "tel", autocomplete: "off" });
  const form = h("form", { class: "form", novalidate: true },
    h("div", { class: "field" }, h("label", { for: "send-document" }, "Document"), which),
    h("div", { class: "form-row" },
      h("div", { class: "field" }, h("label", { for: "send-email" }, "E-mail (reçoit le lien ; vide : celui du résident)"), email),
      h("div", { class: "field" }, h("label", { for: "send-mobile" }, "Portable (reçoit le code ; vide : celui du résident)"), mobile)),
    error, h("button", { class: "button primary", type: "submit" }, "Envoyer le document"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    try {
      const sent = await call("POST", `${linkApi}/documents/${encodeURIComponent(which.value)}/send`,
                              { email: email.value.trim() || null, mobile: mobile.value.trim() || null });
      toast(`Lien envoyé à ${sent.email}, code au ${sent.mobile}.`);
    } catch (failure) {
      say(error, failure);
    }
  });
  return h("section", { class: "card send-document" }, h("h2", {}, "Envoyer un document au résident ou à un proche"),
    h("p", { class: "hint" }, "Un lien de téléchargement part par e-mail et son code par SMS ; le lien expire après quelques jours."), form);
}

function signatureCard(linkApi, call, present, reload) {
  const error = alertBox();
  const input = h("input", { id: "signature-file", type: "file", accept: "image/png,image/jpeg" });
  const form = h("form", { class: "form" },
    h("p", { class: present ? "signed" : "hint" }, present ? "Votre signature est enregistrée sur ce chariot : elle sera apposée sur ce que vous signez."
      : "Photographiez ou scannez votre signature sur papier blanc : elle sera apposée sur vos ordonnances et les PDF que vous signez, ici et lors de vos prochains liens."),
    h("div", { class: "field" }, h("label", { for: "signature-file" }, present ? "Remplacer l'image de ma signature" : "Image de ma signature (JPEG ou PNG)"), input),
    error, h("button", { class: "button secondary", type: "submit" }, "Charger ma signature"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!input.files.length) return say(error, new Error("Choisissez la photo de votre signature."));
    const data = new FormData();
    data.append("file", input.files[0]);
    try {
      await call("PUT", `${linkApi}/signature-image`, data);
      toast("Signature enregistrée.");
      reload();
    } catch (failure) {
      say(error, failure);
    }
  });
  return h("section", { class: "card own-signature" }, h("h2", {}, "Ma signature"), form);
}

function medicineRow(n) {
  const id = (what) => `medicine-${n}-${what}`;
  return h("fieldset", { class: "medicine" }, h("legend", {}, `Médicament ${n}`),
    h("div", { class: "field" }, h("label", { for: id("name") }, "Médicament, forme et dosage"),
      h("input", { id: id("name"), name: "name", placeholder: "Amoxicilline 500 mg, gélule", autocomplete: "off" })),
    h("div", { class: "field" }, h("label", { for: id("dosage") }, "Posologie"),
      h("input", { id: id("dosage"), name: "dosage", placeholder: "1 gélule matin, midi et soir", autocomplete: "off" })),
    h("div", { class: "field" }, h("label", { for: id("duration") }, "Durée"),
      h("input", { id: id("duration"), name: "duration", placeholder: "7 jours", autocomplete: "off" })));
}

function prescriptionCard(linkApi, call, present, reload) {
  const error = alertBox();
  const rows = h("div", { class: "medicines" }, medicineRow(1));
  const more = h("button", { class: "button secondary", type: "button", onclick: () => rows.append(medicineRow(rows.children.length + 1)) },
    "Ajouter un médicament");
  const notes = h("textarea", { id: "prescription-notes", rows: 4 });
  const submit = h("button", { class: "button primary", type: "submit", disabled: !present }, "Signer et verser l'ordonnance au télédossier");
  const form = h("form", { class: "form" }, rows, more,
    h("div", { class: "field" }, h("label", { for: "prescription-notes" }, "Texte libre (conseils, surveillance, prescription non médicamenteuse)"), notes),
    present ? null : h("p", { class: "hint" }, "Enregistrez d'abord votre signature (ci-dessus) : l'ordonnance en porte l'image."),
    error, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const medicines = [...rows.querySelectorAll("fieldset")].map((set) => ({
      name: set.querySelector("[name=name]").value.trim(), dosage: set.querySelector("[name=dosage]").value.trim(),
      duration: set.querySelector("[name=duration]").value.trim() })).filter((m) => m.name);
    if (!submit.dataset.armed) {  // two taps: a signed prescription cannot be taken back
      submit.dataset.armed = "1";
      submit.textContent = `Confirmer : signer l'ordonnance (${medicines.length} médicament${medicines.length > 1 ? "s" : ""})`;
      return;
    }
    try {
      const made = await call("POST", `${linkApi}/prescriptions`, { medicines, notes: notes.value });
      toast(`Ordonnance signée et versée au télédossier : « ${made.name} ».`);
      reload();
    } catch (failure) {
      delete submit.dataset.armed;
      submit.textContent = "Signer et verser l'ordonnance au télédossier";
      say(error, failure);
    }
  });
  return h("section", { class: "card prescription" }, h("h2", {}, "Rédiger une ordonnance"),
    h("p", { class: "hint" }, "Elle portera votre nom, votre RPPS, l'identité du résident, la date et votre signature ; l'équipe la voit aussitôt sur l'écran du chariot."),
    form);
}

function addDocumentCard(linkApi, call, present, reload) {
  const error = alertBox();
  const file = h("input", { id: "own-file", type: "file", accept: "application/pdf,image/jpeg,image/png" });
  const kind = h("select", { id: "own-kind" }, KINDS.map(([value, label]) => h("option", { value }, label)));
  const sign = h("input", { id: "own-sign", type: "checkbox", disabled: !present });
  const form = h("form", { class: "form" },
    h("div", { class: "field" }, h("label", { for: "own-file" }, "Fichier (PDF, JPEG ou PNG)"), file),
    h("div", { class: "field" }, h("label", { for: "own-kind" }, "Type de document"), kind),
    h("label", { class: "check", for: "own-sign" }, sign, " Signer ce PDF avec ma signature"),
    error, h("button", { class: "button primary", type: "submit" }, "Ajouter au télédossier"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!file.files.length) return say(error, new Error("Choisissez le fichier à ajouter."));
    const data = new FormData();
    data.append("kind", kind.value);
    if (sign.checked) data.append("sign", "1");
    data.append("file", file.files[0]);
    try {
      const added = await call("POST", `${linkApi}/documents`, data);
      toast(`« ${added.name} » ajouté au télédossier.`);
      reload();
    } catch (failure) {
      say(error, failure);
    }
  });
  return h("section", { class: "card own-document" }, h("h2", {}, "Ajouter un document"), form);
}
