// The specialist's page behind the invitation link (seed 001 §2 and §4): ask for a one-time code,
// type it, then read the fiche, vitals and documents and write and sign the expert's opinion.
// The link itself (room and token) is in the address; the session is an HttpOnly cookie.
import { askAgain } from "/static/js/ask_again.js";
import { h, toast } from "/static/js/dom.js";
import { jsonRequest } from "/static/js/json_request.js";
import { WIDE, besideOpen, openBeside } from "/static/specialist/beside.js";
import { colleagueCard } from "/static/specialist/colleague.js";
import { ownDocuments } from "/static/specialist/own_documents.js";
import { roomPresence } from "/static/specialist/presence.js";

const main = document.getElementById("specialist");
const [, , room, token] = location.pathname.split("/");
const linkApi = `/api/v1/links/${encodeURIComponent(room)}/${encodeURIComponent(token)}`;
// Per link: one tab may open a second doctor's or dossier's link after the first.
const csrfKey = `telecart-link-csrf:${room}/${token}`;
let csrf = sessionStorage.getItem(csrfKey);
// The opinion being written, kept in this tab until saved: a session ended meanwhile (a long call
// beside the dossier) asks a new code, and the text is still there after it.
const draftKey = `telecart-link-opinion:${room}/${token}`;

function call(method, path, body) {
  return jsonRequest(method, path, body, csrf);
}

const frDate = (iso) => iso.split("-").reverse().join("/");
const frStamp = (iso) => new Intl.DateTimeFormat("fr-FR", { dateStyle: "long", timeStyle: "short" }).format(new Date(iso));
const SEX = { F: "Féminin", M: "Masculin", I: "Indéterminé" };
const BORN = { F: "née", M: "né", I: "né(e)" };

function codeStep() {
  const alert = h("div", { class: "alert", role: "alert", hidden: true });
  const say = (message) => { alert.textContent = message; alert.hidden = false; };
  const input = h("input", { id: "code", class: "code", inputmode: "numeric", autocomplete: "one-time-code", maxlength: 6, "aria-describedby": "code-hint" });
  const codeForm = h("form", { class: "form", hidden: true },
    h("div", { class: "field" }, h("label", { for: "code" }, "Code reçu"), h("span", { class: "hint", id: "code-hint" }, ""), input),
    h("button", { class: "button primary", type: "submit" }, "Ouvrir le télédossier"));
  const ask = h("button", { class: "button primary", type: "button" }, "Recevoir un code");
  const other = h("button", { class: "button secondary", type: "button", hidden: true });
  const hint = () => codeForm.querySelector("#code-hint");
  let following = 0;
  // The truth about the message: "en cours d'envoi" until it really left, then where it went.
  const follow = async (sent, round) => {
    if (round !== following) return;  // a newer code was asked for
    let status = null;
    try { status = await call("GET", `${linkApi}/code`); } catch { /* the next look says more */ }
    const by = sent.channel === "sms" ? "SMS" : "e-mail";
    const the = sent.channel === "sms" ? "Le SMS" : "L'e-mail";
    if (status && status.state === "sent") {
      hint().textContent = `Envoyé par ${by} à ${sent.sent_to}. Il expire dans 10 minutes.`;
      return;
    }
    if (status && (status.state === "failed" || status.last_error)) {
      hint().textContent = `${the} à ${sent.sent_to} n'est pas parti${status.last_error ? ` (${status.last_error})` : ""}.`
        + (sent.other_channel ? ` Recevez plutôt le code par ${sent.other_channel === "email" ? "e-mail" : "SMS"} (bouton au-dessus).`
          : " Demandez à l'établissement de vérifier vos coordonnées.");
      if (status.state === "failed") return;
    } else {
      hint().textContent = `Code en cours d'envoi par ${by} à ${sent.sent_to}…`;
    }
    setTimeout(() => follow(sent, round), 1500);
  };
  const send = async (channel) => {
    alert.hidden = true;
    try {
      const sent = await call("POST", `${linkApi}/code`, channel ? { channel } : {});
      codeForm.hidden = false;
      ask.textContent = "Renvoyer un code";
      ask.className = "button secondary";
      other.hidden = !sent.other_channel;
      other.textContent = sent.other_channel === "email" ? "Recevoir le code par e-mail" : "Recevoir le code par SMS";
      other.dataset.channel = sent.other_channel || "";
      follow(sent, ++following);
      input.focus();
    } catch (error) {
      say(error.message);
    }
  };
  ask.addEventListener("click", () => send(null));
  other.addEventListener("click", () => send(other.dataset.channel));
  codeForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    alert.hidden = true;
    try {
      const session = await call("POST", `${linkApi}/session`, { code: input.value });
      csrf = session.csrf_token;
      sessionStorage.setItem(csrfKey, csrf);
      showDossier();
    } catch (error) {
      say(error.message);
    }
  });
  // Pro Santé Connect (e-CPS), when the establishment offers it: no code to wait for.
  const psc = h("button", { class: "button secondary", type: "button", hidden: true }, "Ouvrir avec Pro Santé Connect (e-CPS)");
  psc.addEventListener("click", async () => {
    alert.hidden = true;
    try {
      location.assign((await call("GET", `${linkApi}/psc/start`)).url);
    } catch (error) {
      say(error.message);
    }
  });
  call("GET", `${linkApi}/ways`).then((ways) => { psc.hidden = !ways.psc; }).catch(() => {});
  main.replaceChildren(h("section", { class: "card specialist-gate" },
    h("h1", {}, "Accès au télédossier"),
    h("p", {}, "Pour protéger les données du patient, un code à usage unique est envoyé sur votre téléphone portable (ou par e-mail)."),
    alert, ask, other, codeForm, psc));
}

function facts(rows) {
  return h("dl", { class: "facts" }, rows.filter(([, v]) => v).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

function text(title, value, part) {
  return h("section", { class: "card", "data-part": part }, h("h2", {}, title), h("p", { class: "prose" }, value || "Non renseigné"));
}

// The parts of the page that follow the dossier (refreshRecords), each drawn from it.
const PARTS = {
  reason: (d) => h("p", { class: "reason", "data-part": "reason" }, h("strong", {}, "Motif : "), d.fiche.reason || "non renseigné"),
  history: (d) => text("Antécédents", d.fiche.history, "history"),
  observations: (d) => text("Observations cliniques", d.fiche.observations, "observations"),
  vitals: vitalsCard,
  documents: documentsCard,
};

// What the nurse saves while the doctor has the dossier open (the reason, the history and
// observations, a vital, a document) comes by itself: the page asks the dossier's version every few
// seconds (without keeping the link session open: a page left alone still ends) and, when it moved,
// reads the dossier and redraws those parts, never the opinion being written.
const FOLLOW_MS = 5000;
let shownVersion = null;
let following = false;

function followDossier() {
  if (following) return;
  following = true;
  askAgain(`${linkApi}/dossier/version`, {
    every: FOLLOW_MS, first: FOLLOW_MS, skip: () => document.hidden || shownVersion === null,
    answer: async ({ version }) => { if (version !== shownVersion) await refreshRecords(); },
    endsOn: [401], onEnd: () => { following = false; },  // the session ended: the next tap asks the code
  });
}

function render(d) {
  shownVersion = d.version;
  const p = d.patient;
  const closed = d.state === "closed";
  const draft = closed ? null : sessionStorage.getItem(draftKey);
  const opinion = h("textarea", { id: "opinion", rows: 8, disabled: closed }, draft ?? (d.fiche.expert_opinion || ""));
  opinion.addEventListener("input", () => sessionStorage.setItem(draftKey, opinion.value));
  const save = h("button", { class: "button secondary", type: "button", hidden: closed }, "Enregistrer");
  const sign = h("button", { class: "button primary", type: "button", hidden: closed }, "Signer et clôturer");
  save.addEventListener("click", async () => {
    try {
      const saved = await call("PATCH", `${linkApi}/fiche`, { expert_opinion: opinion.value });
      sessionStorage.removeItem(draftKey);
      render(saved);
      toast("Avis enregistré.");
    } catch (error) { handle(error); }
  });
  sign.addEventListener("click", async () => {
    if (!sign.dataset.armed) {  // two taps: a signature is final
      sign.dataset.armed = "1";
      sign.textContent = d.state === "scheduled" ? "La téléconsultation n'a pas encore eu lieu : signer quand même"
        : "Confirmer la signature (définitive)";
      return;
    }
    try {
      await call("PATCH", `${linkApi}/fiche`, { expert_opinion: opinion.value });
      sessionStorage.removeItem(draftKey);
      render(await call("POST", `${linkApi}/signature`));
      toast("Avis signé : le télédossier est clôturé.");
    } catch (error) { handle(error); }
  });
  // The first screen (seed 001): who, why, and the two things a doctor with two minutes does.
  const expertise = d.kind === "teleexpertise" ? d.expertise : null;  // an opinion in writing: no call
  const roomOpen = !expertise && d.room && Date.parse(d.room.opens_at) <= Date.now() && Date.now() < Date.parse(d.room.closes_at)
    && d.state !== "cancelled";
  main.replaceChildren(
    h("div", { class: "specialist-head" },
      h("div", {}, h("h1", {}, p.display_name),
        h("p", { class: "hint" }, `${SEX[p.sex]} · ${BORN[p.sex]} le ${frDate(p.birth_date)} · télédossier n° ${d.id.slice(0, 8)}`)),
      h("span", { class: `badge state-${d.state}` }, d.state_label)),
    h("section", { class: "card first-screen" },
      PARTS.reason(d),
      expertise ? h("p", { class: "reason" }, h("strong", {}, "Question posée : "), expertise.question) : null,
      expertise ? h("p", { class: "expertise-deadline" }, `Téléexpertise (sans appel) : avis attendu avant le ${frStamp(expertise.deadline)}.`) : null,
      h("div", { class: "choices" },
        h("a", { class: "button secondary large", href: "#dossier", onclick: () => { document.getElementById("dossier")?.scrollIntoView(); } },
          "Ouvrir le télédossier"),
        roomOpen ? joinLink(d) : h("p", { class: "hint" }, d.room && !expertise ? `La salle ouvre le ${frStamp(d.room.opens_at)}.` : "")),
      roomOpen ? h("p", { class: "beside-note" }, "L'appel est ouvert à gauche ; le télédossier reste ici.") : null,
      roomOpen ? roomPresence(linkApi) : null),
    h("span", { id: "dossier" }),
    h("section", { class: "card" }, h("h2", {}, expertise ? "Téléexpertise" : "Téléconsultation"), facts([
      ["Créneau", d.slot ? `${frStamp(d.slot.start)}, ${d.slot.duration_minutes} min` : null],
      ["Avis attendu avant le", expertise ? frStamp(expertise.deadline) : null],
      ["Consentement", d.consent.given ? "Recueilli" : `Non recueilli : ${d.consent.comment}`],
    ])),
    PARTS.history(d),
    PARTS.observations(d),
    PARTS.vitals(d),
    PARTS.documents(d),
    h("section", { class: "card expert" }, h("h2", {}, "Avis de l'expert"),
      closed ? h("p", { class: "signed" }, `Signé par ${d.fiche.signed_by} le ${frStamp(d.fiche.signed_at)}`) : null,
      h("div", { class: "field" }, h("label", { for: "opinion", class: "sr-only" }, "Avis de l'expert"), opinion),
      h("div", { class: "actions-row" }, save, sign,
        h("a", { class: "button secondary", href: `${linkApi}/report.pdf` }, "Compte rendu (PDF)"))),
  );
  if (!closed && d.state !== "cancelled") {
    const pdfs = d.documents.filter((doc) => doc.mime === "application/pdf");
    ownDocuments({ linkApi, call, reload: showDossier, pdfs }).then((cards) => main.append(...cards, colleagueCard({ linkApi, call }))).catch(handle);
  }
}

function vitalsCard(d) {
  return h("section", { class: "card", "data-part": "vitals" }, h("h2", {}, "Constantes"),
    d.vitals.length ? h("table", { class: "records" },
      h("thead", {}, h("tr", {}, h("th", {}, "Constante"), h("th", {}, "Valeur"), h("th", {}, "Mesurée le"))),
      h("tbody", {}, d.vitals.map((v) => h("tr", {},
        h("td", {}, v.label, h("span", { class: "source" }, v.device ? `mesurée par ${v.device}` : "saisie à la main", v.warnings ? ` — ${v.warnings}` : "")),
        h("td", {}, `${v.value.replace(".", ",")} ${v.unit}`), h("td", {}, frStamp(v.measured_at))))))
      : h("p", { class: "hint" }, "Aucune constante relevée."));
}

function documentsCard(d) {
  return h("section", { class: "card", "data-part": "documents" }, h("h2", {}, "Documents"),
    d.documents.length ? h("ul", { class: "documents" }, d.documents.map(documentItem))
      : h("p", { class: "hint" }, "Aucun document."));
}

// « Rejoindre l'appel »: on a phone the room's own page; on a desktop screen the room beside the
// dossier (beside.js), which then refreshes its vitals and documents as the room announces them
// (a photo asked for, a document sent), without touching what the doctor is writing.
function joinLink(d) {
  return h("a", { class: "button primary large join-call", href: `${location.pathname}?vue=appel`, onclick: (event) => {
    if (!window.matchMedia(WIDE).matches || besideOpen()) return;
    event.preventDefault();
    // In the call the room keeps the dossier's session open; ended anyway, the code is asked again here.
    openBeside({ room, token, name: d.specialist ? d.specialist.display_name : "", onNotice: refreshRecords, onSessionEnded: codeStep });
  } }, "Rejoindre l'appel");
}

async function refreshRecords() {
  try {
    const d = await call("GET", `${linkApi}/dossier`);
    for (const [part, draw] of Object.entries(PARTS)) main.querySelector(`[data-part="${part}"]`)?.replaceWith(draw(d));
    shownVersion = d.version;
  } catch (error) {
    if (error.status === 401) codeStep();  // the dossier's side asks its code again; the call goes on
  }
}

// A document by its name; a photo (the nurse's, from the exam camera) shown as well, as large as
// the page allows, since a wound is judged on the picture.
function documentItem(doc) {
  const href = `${linkApi}/documents/${encodeURIComponent(doc.id)}`;
  return h("li", {},
    h("a", { href, target: "_blank", rel: "noopener" }, doc.name),
    ` — ${doc.kind_label}${doc.signed_by ? `, signé par ${doc.signed_by}` : ""}`,
    doc.mime.startsWith("image/") ? h("a", { class: "document-photo", href, target: "_blank", rel: "noopener" },
      h("img", { src: href, alt: doc.name, loading: "lazy" })) : null);
}

function handle(error) {
  if (error.status === 401) return codeStep();
  toast(error.message, "error");
}

async function showDossier() {
  try {
    const dossier = await call("GET", `${linkApi}/dossier`);
    csrf = dossier.csrf_token;  // a session opened by Pro Santé Connect lands here without the code's answer
    sessionStorage.setItem(csrfKey, csrf);
    render(dossier);
    followDossier();
  } catch (error) {
    if (error.status === 401) codeStep();
    else main.replaceChildren(h("section", { class: "card" }, h("p", {}, error.message)));
  }
}

showDossier();
