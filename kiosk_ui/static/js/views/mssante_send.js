// « Envoyer par messagerie sécurisée » (seeds 000 §2.3.4.2, 001 §4.1.2 « Envoyer par MSS »): a
// dossier's PDFs (and its report) to a health professional's MSSanté address, picked from the
// directory or typed; then what became of each message (sent, waiting and why, refused), as the
// invitations show theirs. Nothing can be sent while the cart's [mssante] section is incomplete:
// the page says so instead of the form.
import { api } from "../api.js";
import { h, reportError, toast } from "../dom.js";
import { frWhen } from "../i18n.js";

const S = {
  title: "Messagerie sécurisée de santé (MSSanté)",
  open: "Envoyer par messagerie sécurisée",
  lead: "Les PDF partent chiffrés vers la messagerie sécurisée d'un professionnel de santé, avec l'identité du résident (et son INS si elle est qualifiée).",
  from: (sender) => `Expéditeur : ${sender}`,
  recipient: "Destinataire",
  typed: "Autre adresse MSSanté",
  typedLabel: "Adresse MSSanté du destinataire",
  typedHint: "Par exemple prenom.nom@hopital.mssante.fr",
  documents: "Documents à envoyer",
  report: "Compte rendu de la téléconsultation (PDF, tel qu'il est maintenant)",
  note: "Message au destinataire (facultatif)",
  send: "Envoyer",
  cancel: "Annuler",
  queued: (to) => `Envoi vers ${to} en cours.`,
  none: "Aucun envoi par messagerie sécurisée pour ce télédossier.",
  sent: (when) => `envoyé ${when}`,
  waiting: (why) => `en attente, nouvel essai automatique : ${why}`,
  pending: "en cours d'envoi",
  failed: (why) => `non envoyé : ${why}`,
  by: (who, when) => `demandé par ${who} ${when}`,
  loading: "Chargement…",
};
// The kiosk's stylesheet has no rule for these: set through the CSSOM (the page's CSP refuses
// style attributes). A lasting notice in amber, as the other warnings; a group of big choices, one per line.
const styled = (node, css) => { node.style.cssText = css; return node; };
const GROUP_STYLE = "display: flex; flex-direction: column; gap: 4px; margin: 0; padding: 0; border: 0";
const SECTION_STYLE = "display: flex; flex-direction: column; gap: 12px; margin-top: 8px; padding-top: 16px; border-top: 1px solid var(--grey-300)";
const LEGEND_STYLE = "padding: 0; margin-bottom: 4px; font-weight: 600";
const NOTICE_STYLE = "margin: 0; padding: 12px 16px; border: 2px solid var(--amber-800); border-radius: var(--radius); "
  + "background: var(--amber-100); color: var(--amber-800); font-weight: 600";
// While a message is leaving, ask again after these delays (about two minutes), as the invitations do.
const FOLLOW_MS = [1500, 2000, 3000, 5000, 10000, 15000, 30000, 30000];

function stateText(m) {
  if (m.state === "sent") return S.sent(frWhen(m.sent_at));
  if (m.state === "failed") return S.failed(m.last_error || "");
  return m.last_error ? S.waiting(m.last_error) : S.pending;
}

function messageLine(m) {
  const who = m.recipient_name ? `${m.recipient_name} (${m.recipient})` : m.recipient;
  return h("li", { class: `delivery delivery-${m.state}`, "data-mssante": m.id },
    h("strong", {}, who), " — ", stateText(m),
    h("div", { class: "hint" }, `${m.documents.map((d) => d.name).join(", ")} · ${S.by(m.created_by, frWhen(m.created_at))}`));
}

function sendForm(dossier, state, done) {
  const pdfs = state.documents;
  const typed = h("input", { id: "mssante-address", type: "email", autocomplete: "off", maxlength: 254, "aria-describedby": "mssante-address-hint" });
  const choices = state.recipients.map((r) => h("label", { class: "check" },
    h("input", { type: "radio", name: "mssante-to", value: String(r.directory_id) }),
    `${r.display_name} — ${r.specialty} — ${r.address}`));
  const other = h("input", { type: "radio", name: "mssante-to", value: "typed", checked: !state.recipients.length });
  typed.addEventListener("focus", () => { other.checked = true; });
  const report = h("input", { type: "checkbox", value: "report", checked: true });
  const docs = pdfs.map((doc) => h("input", { type: "checkbox", value: doc.id }));
  const note = h("textarea", { id: "mssante-note", rows: 3, maxlength: 2000 });
  const submit = h("button", { class: "button primary", type: "submit" }, S.send);
  const form = h("form", { class: "form mssante-form" },
    styled(h("fieldset", {},
      styled(h("legend", {}, S.recipient), LEGEND_STYLE), choices, h("label", { class: "check" }, other, S.typed),
      h("div", { class: "field" }, h("label", { for: "mssante-address" }, S.typedLabel),
        h("span", { class: "hint", id: "mssante-address-hint" }, S.typedHint), typed)), GROUP_STYLE),
    styled(h("fieldset", {},
      styled(h("legend", {}, S.documents), LEGEND_STYLE), h("label", { class: "check" }, report, S.report),
      pdfs.map((doc, i) => h("label", { class: "check" }, docs[i], doc.name))), GROUP_STYLE),
    h("div", { class: "field" }, h("label", { for: "mssante-note" }, S.note), note),
    h("div", { class: "actions-row" }, submit,
      h("button", { class: "button secondary", type: "button", onclick: () => done(false) }, S.cancel)));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const picked = form.querySelector("input[name=mssante-to]:checked");
    const body = {
      report: report.checked,
      documents: docs.filter((box) => box.checked).map((box) => box.value),
      note: note.value.trim(),
    };
    if (!picked || picked.value === "typed") body.recipient = typed.value.trim();
    else body.directory_id = Number(picked.value);
    submit.disabled = true;
    try {
      const queued = await api("POST", `/dossiers/${encodeURIComponent(dossier.id)}/mssante`, body);
      toast(S.queued(queued.recipient));
      done(true);
    } catch (error) {
      reportError(error);
      submit.disabled = false;
    }
  });
  return form;
}

// The section the dossier's documents card shows under its documents.
export function mssanteSend({ dossier }) {
  const box = styled(h("section", { class: "mssante", "aria-labelledby": "mssante-title" },
    h("h3", { id: "mssante-title" }, S.title), h("p", { class: "hint" }, S.loading)), SECTION_STYLE);
  let follow = null;
  let followed = 0;
  let formShown = false;

  async function load({ background = false } = {}) {
    clearTimeout(follow);
    if (background && !box.isConnected) return;
    let state;
    try {
      state = await api("GET", `/dossiers/${encodeURIComponent(dossier.id)}/mssante`, undefined, { background });
    } catch (error) {
      if (!background) reportError(error);
      return;
    }
    if (!background) followed = 0;
    if (state.messages.some((m) => m.state === "pending") && followed < FOLLOW_MS.length) {
      follow = setTimeout(() => load({ background: true }), FOLLOW_MS[followed++]);
    }
    // A refresh for the states replaces the list only: what the nurse is typing in the form stays.
    if (background && formShown && shown) {
      const fresh = messageList(state);
      shown.replaceWith(fresh);
      shown = fresh;
      return;
    }
    render(state);
  }

  let shown = null;
  const messageList = (state) => h("ul", { class: "deliveries mssante-messages" },
    state.messages.length ? state.messages.map(messageLine) : h("li", { class: "hint" }, S.none));

  function render(state) {
    const list = messageList(state);
    shown = list;
    const parts = [styled(h("h3", { id: "mssante-title" }, S.title), "margin: 0")];
    if (!state.configured) {
      parts.push(styled(h("p", { class: "notice-box mssante-off", role: "status" }, state.notice), NOTICE_STYLE));
    } else if (formShown) {
      parts.push(h("p", { class: "hint" }, S.lead), h("p", { class: "hint" }, S.from(state.sender)),
        sendForm(dossier, state, () => { formShown = false; load(); }));
    } else {
      parts.push(h("div", { class: "actions-row" }, h("button", { class: "button primary", type: "button",
        onclick: () => { formShown = true; load(); } }, S.open)));
    }
    parts.push(list);
    box.replaceChildren(...parts);
  }

  load();
  return box;
}
