// Documents of a dossier (seed 000 §2.3.3): add by tapping (the tablet offers its camera roll) or
// by dropping files, rename, give a type, apply one's signature to a PDF; the report PDF and the
// whole dossier for the practice software (seed 001 §4).
import { api } from "../api.js";
import { h, reportError, toast } from "../dom.js";
import { T, frWhen } from "../i18n.js";
import { mssanteSend } from "./mssante_send.js";
import { printButton } from "./print_button.js";

const G = () => T.documents;
const ACCEPT = "application/pdf,image/jpeg,image/png";

function sizeText(bytes) {
  return bytes < 1024 * 1024 ? `${Math.max(1, Math.round(bytes / 1024))} Ko` : `${(bytes / 1024 / 1024).toFixed(1).replace(".", ",")} Mo`;
}

function documentRow(dossier, doc, { closed, refresh }) {
  const base = `/dossiers/${dossier.id}/documents/${doc.id}`;
  const name = h("input", { class: "doc-name", value: doc.name, maxlength: 200, disabled: closed, "aria-label": G().rename });
  const kind = h("select", { class: "doc-kind", disabled: closed, "aria-label": G().kind },
    Object.entries(G().kinds).map(([value, label]) => h("option", { value, selected: value === doc.kind }, label)));
  const describe = async (body) => {
    try {
      await api("PATCH", base, body);
      toast(G().renamed);
    } catch (error) {
      reportError(error);
    }
  };
  name.addEventListener("change", () => name.value.trim() && describe({ name: name.value.trim() }));
  kind.addEventListener("change", () => describe({ kind: kind.value }));
  const sign = doc.mime === "application/pdf" && !doc.signed_by && !closed
    ? h("button", { class: "button secondary", type: "button", onclick: async () => {
      try {
        await api("POST", `${base}/signature`);
        toast(G().signedToast);
        refresh();
      } catch (error) {
        reportError(error);
      }
    } }, G().applySignature) : null;
  // Only PDFs leave, to the patient's own email (the link) and mobile (the code).
  const sendToPatient = doc.mime === "application/pdf"
    ? h("button", { class: "button secondary", type: "button", onclick: async () => {
      try {
        const sent = await api("POST", `${base}/send`, {});
        toast(G().sentToPatient(sent.email, sent.mobile));
      } catch (error) {
        reportError(error);
      }
    } }, G().sendToPatient) : null;
  return h("li", { class: "document", "data-document": doc.id },
    h("div", { class: "doc-fields" }, name, kind),
    h("div", { class: "hint" }, [G().mime[doc.mime], doc.pages ? G().pages(doc.pages) : null, sizeText(doc.size), frWhen(doc.added_at)].filter(Boolean).join(" · "),
      doc.signed_by ? h("strong", { class: "signed" }, ` · ${G().signedBy(doc.signed_by)}`) : null,
      doc.from_region ? h("strong", { class: "from-region" }, ` · ${G().fromRegion}`) : null),
    h("div", { class: "actions-row" },
      h("a", { class: "button secondary", href: `/api/v1${base}`, download: doc.name }, G().download), sign, sendToPatient,
      doc.mime === "application/pdf" ? printButton({ dossierId: dossier.id, documentId: doc.id, name: doc.name }) : null));
}

// "Ma signature": uploaded once (a photo or scan), then applied to PDFs with one tap.
export function signatureBox() {
  const input = h("input", { type: "file", accept: "image/jpeg,image/png", id: "signature-file", hidden: true });
  const preview = h("img", { class: "signature-preview", alt: G().mySignature, hidden: true });
  const status = h("span", { class: "hint" }, G().noSignature);
  const show = () => {
    preview.src = `/api/v1/me/signature?t=${Date.now()}`;
    preview.onload = () => { preview.hidden = false; status.textContent = ""; };
    preview.onerror = () => { preview.hidden = true; status.textContent = G().noSignature; };
  };
  input.addEventListener("change", async () => {
    if (!input.files.length) return;
    const form = new FormData();
    form.append("file", input.files[0]);
    try {
      await api("PUT", "/me/signature", form);
      toast(G().signatureSaved);
      show();
    } catch (error) {
      reportError(error);
    }
    input.value = "";
  });
  show();
  return h("div", { class: "signature-box" },
    h("span", { class: "label" }, G().mySignature), preview, status,
    h("label", { class: "button secondary", for: "signature-file" }, G().loadSignature), input);
}

export function documentsCard({ dossier, onChanged }) {
  const closed = ["closed", "cancelled"].includes(dossier.state);
  const list = h("ul", { class: "documents" });
  const render = (docs) => list.replaceChildren(...(docs.length ? docs.map((doc) => documentRow(dossier, doc, { closed, refresh })) : [h("li", { class: "hint" }, G().none)]));
  async function refresh() {
    try {
      const fresh = await api("GET", `/dossiers/${dossier.id}`);
      render(fresh.documents);
      onChanged(fresh);
    } catch (error) {
      reportError(error);
    }
  }
  async function send(files) {
    for (const file of files) {
      const form = new FormData();
      form.append("file", file);
      try {
        await api("POST", `/dossiers/${dossier.id}/documents`, form);
        toast(G().added(file.name));
      } catch (error) {
        reportError(error);
      }
    }
    refresh();
  }
  const input = h("input", { type: "file", accept: ACCEPT, multiple: true, id: "document-file", hidden: true });  // its label (the drop zone) is the control
  input.addEventListener("change", () => { send([...input.files]); input.value = ""; });
  const drop = h("label", { class: "dropzone", for: "document-file", hidden: closed }, h("strong", {}, G().add), h("span", { class: "hint" }, G().addHint));
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => { event.preventDefault(); drop.classList.remove("over"); send([...event.dataTransfer.files]); });
  render(dossier.documents);
  return h("section", { class: "card documents-card", "aria-labelledby": "documents-title" },
    h("h2", { id: "documents-title" }, G().title),
    drop, input, list,
    closed ? null : signatureBox(),
    h("div", { class: "actions-row" },
      h("a", { class: "button secondary", href: `/api/v1/dossiers/${dossier.id}/report.pdf`, download: "" }, G().report),
      h("a", { class: "button secondary", href: `/api/v1/dossiers/${dossier.id}/export`, download: "" }, G().export)),
    mssanteSend({ dossier }));
}
