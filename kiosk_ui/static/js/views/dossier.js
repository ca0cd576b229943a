// A dossier's page: who, when, consent, accompaniment, and the invitations with what became of
// each email and SMS (sent, waiting for the network, refused), with resend and revoke (seed 000
// §2.3.1 "Renvoi d'invitation").
import { api } from "../api.js";
import { followPulse, presenceText } from "../pulse.js";
import { fill, h, icon, reportError, toast, twoTaps } from "../dom.js";
import { T, ageOn, frDate, frDay, frPhone, frStamp, frTime, frWhen, isSameDay } from "../i18n.js";
import { documentsCard } from "./dossier_documents.js";
import { regionCard } from "./region_card.js";
import { ficheCard } from "./dossier_fiche.js";

const D = () => T.dossier;
// While an email or an SMS of the page's invitations is leaving, the pulse comes sooner for this
// long after the dossier was last read: « en cours d'envoi » turns into « envoyé » (or says why
// not) within a second or two. A queue waiting for the network may wait hours: then every 5 s.
const LEAVING_MS = 2 * 60_000;
const leaving = (d) => d.invitations.some((inv) => !inv.revoked_at && inv.deliveries.some((x) => x.state === "pending"));

// "13 h 02" never cut at the end of a line: "13 h" on one, "02" on the next.
const keep = (text) => text.replace(/(\d) h (\d)/g, "$1\u00a0h\u00a0$2");

// "ouverte aujourd'hui de 14 h 15 à 15 h 35", or with both days when it runs past midnight.
function roomWindow(room) {
  if (!isSameDay(room.opens_at, room.closes_at)) return keep(D().window(frWhen(room.opens_at), frWhen(room.closes_at)));
  return keep(D().windowSameDay(frDay(room.opens_at), frTime(new Date(room.opens_at)), frTime(new Date(room.closes_at))));
}

function deliveryLine(d, revoked) {
  const channel = d.channel === "email" ? D().byEmail : D().bySms;
  const state = d.state === "sent" ? keep(D().sent(frWhen(d.sent_at)))
    : d.state === "failed" ? (revoked ? D().notSent : D().failed(d.last_error || ""))
      : d.last_error ? D().waiting(d.last_error) : D().queued;
  return h("li", { class: `delivery delivery-${d.state}` }, h("strong", {}, `${channel} ${d.channel === "sms" ? frPhone(d.recipient) : d.recipient}`), " — ", state);
}

// After "Renvoyer l'invitation" a channel has several messages (oldest first): the last one says
// what the nurse wants to know, whether the invitation reached that address.
function latest(deliveries) {
  const byAddress = new Map();
  for (const d of deliveries) byAddress.set(`${d.channel} ${d.recipient}`, d);
  return [...byAddress.values()];
}

function invitationCard(dossier, inv, reload) {
  const act = (method, path, done) => async () => {
    try {
      await api(method, `/dossiers/${dossier.id}/invitations/${inv.id}${path}`);
      toast(done);
      reload();
    } catch (error) {
      reportError(error);
    }
  };
  // The doctor as the wizard and the activity view name them ("Dr Antoine Roux"), others as files do.
  const name = inv.role === "specialist" && inv.name ? T.doctor(inv.name, inv.first_name)
    : [inv.name ? inv.name.toUpperCase() : null, inv.first_name].filter(Boolean).join(" ") || D().unnamed;
  return h("li", { class: `invitation ${inv.revoked_at ? "revoked" : ""}`, "data-invitation": inv.id },
    h("div", { class: "invitation-head" },
      h("span", { class: "who" }, `${inv.role_label} · ${name}`),
      inv.revoked_at ? h("span", { class: "badge state-closed" }, D().revoked) : null),
    h("ul", { class: "deliveries" }, latest(inv.deliveries).map((d) => deliveryLine(d, Boolean(inv.revoked_at)))),
    // Revoked by mistake, or a link that leaked: the same person gets a new link, the old one stays dead.
    inv.revoked_at ? (inv.renewed ? h("p", { class: "hint" }, D().renewed)
      : h("div", { class: "actions-row" }, h("button", { class: "button secondary", type: "button",
        onclick: act("POST", "/reinvitation", D().reinvited) }, D().reinvite)))
    : h("div", { class: "actions-row" },
      h("button", { class: "button secondary", type: "button", onclick: act("POST", "/resend", D().resent) }, D().resend),
      h("button", { class: "button secondary danger", type: "button", onclick: twoTaps(D().revoke, D().revokeConfirm, act("DELETE", "", D().revokedToast)) },
        D().revoke)));
}

// "Entrer en salle" while the room is open and the dossier not closed.
function roomOpen(d) {
  // Signed is not gone: while its window lasts the room may still hold the call (issue 17).
  // A téléexpertise has no call: its "room" is only how long the expert's link opens the dossier.
  if (!d.room || ["cancelled", "draft"].includes(d.state) || d.kind === "teleexpertise") return false;
  const now = Date.now();
  return Date.parse(d.room.opens_at) <= now && now < Date.parse(d.room.closes_at);
}

// The room opens later today: say when, where "Entrer en salle" will be.
function roomLater(d) {
  return d.room && d.kind !== "teleexpertise" && !["closed", "cancelled", "draft"].includes(d.state) && Date.now() < Date.parse(d.room.opens_at)
    && isSameDay(d.room.opens_at, new Date().toISOString());
}

function fact(label, value) {
  return [h("dt", {}, label), h("dd", {}, value || "—")];
}

// The page's cards in their places, each with what it shows (`shows`): when the dossier is read
// again, a card is drawn again only if what it shows changed, so a reason half typed, a file on its
// way or the fiche being written stay as they are.
function cardsOf(d, { exits, changed, reload }) {
  return {
    head: { shows: [d.state, d.kind, d.room, d.patient, roomOpen(d), roomLater(d)], draw: () => dossierHead(d, exits) },
    consultation: { shows: [d.state, d.kind, d.slot, d.room, d.specialist, d.accompaniment, d.consent, d.expertise],
      draw: () => consultationCard(d) },
    invitations: { shows: d.invitations, draw: () => invitationsCard(d, reload) },
    region: { shows: d.from_region, draw: () => regionCard(d) },
    documents: { shows: [d.state, d.documents], draw: () => documentsCard({ dossier: d, onChanged: changed }) },
    cancellation: { shows: [d.state, d.cancellation], draw: () => cancellationCard(d, reload) },
  };
}

export function dossierView({ id, session, onBack, onEnd, onCall, onIdentity }) {
  const root = h("div", { class: "dossier-page" }, h("p", { class: "hint" }, T.wizard.loading));
  let fiche = null;
  let current = null;  // the dossier on screen
  const slots = {};  // card name -> its place on the page, and what it shows there

  // Leaving the page saves what was typed in the fiche: the reason typed before « Entrer en salle »
  // is then on the specialist's screen. A save that fails keeps the nurse here, told why.
  const savingFirst = (go) => async (...args) => {
    if (fiche && fiche.unsaved()) {
      try {
        await fiche.saveNow();
        toast(T.fiche.savedOnLeave);
      } catch (error) { reportError(error); return; }
    }
    go(...args);
  };
  // The pulse (pulse.js) says who is in the room: « Dr X vous attend en salle », and « Entrer en
  // salle » beside the name made to stand out, one tap to enter. It also carries the dossier's
  // version: what the specialist writes, the region sends or the messages become shows by itself.
  const presence = h("div", { class: "presence-banner", role: "status", hidden: true });
  followPulse(root, (pulse) => {
    const room = pulse.rooms.find((r) => r.dossier_id === id);
    const text = presenceText(room);
    presence.hidden = !text;
    presence.textContent = text || "";
    someoneWaits = Boolean(text && room.present.length && !room.cart_in_call);
    markEnter();
    if (current && pulse.dossier_version && pulse.dossier_version !== current.version) load({ background: true });
  }, { dossier: id, soon: () => Boolean(current && leaving(current) && Date.now() - readAt < LEAVING_MS) });
  let someoneWaits = false;
  const markEnter = () => root.querySelector("#enter-room")?.classList.toggle("attention", someoneWaits);
  const exits = { onBack: savingFirst(onBack), onCall: savingFirst(onCall), onEnd: savingFirst(onEnd), onIdentity: savingFirst(onIdentity) };
  // The bar's own buttons (Activité, Résidents…) leave too: the draft is kept already, the save follows.
  const away = () => {
    if (location.hash.startsWith(`#/dossier/${id}`)) return;
    window.removeEventListener("hashchange", away);
    if (fiche && fiche.unsaved()) fiche.saveNow().then(() => toast(T.fiche.savedOnLeave)).catch(reportError);
  };
  window.addEventListener("hashchange", away);
  let readAt = 0;
  // A dossier read, or handed back by a card that changed it (a document added, the fiche saved or
  // signed): on screen, and the page's own, so the pulse then sees nothing new.
  const show = (d) => {
    if (current) redraw(d); else render(d);
    current = d;
    readAt = Date.now();
  };
  const cards = { exits, changed: show, reload: () => load() };

  let reading = null;  // one read at a time: a pulse during a read waits for it
  function load({ background = false } = {}) {
    reading = (reading || Promise.resolve()).then(() => read(background)).catch(reportError);
    return reading;
  }

  async function read(background) {
    if (background && !root.isConnected) return;  // the nurse has left the page
    let d;
    try {
      d = await api("GET", `/dossiers/${encodeURIComponent(id)}`, undefined, { background });
    } catch (error) {
      if (background || current) { if (!background) reportError(error); return; }  // the page stays as it was
      reportError(error);
      root.replaceChildren(h("div", { class: "card" }, h("p", {}, error.message)));
      return;
    }
    show(d);
  }

  let opening = null;
  // When the room opens, "Entrer en salle" appears by itself (one read of the dossier then).
  function followOpening(d) {
    clearTimeout(opening);
    if (roomLater(d)) opening = setTimeout(() => { if (root.isConnected) load({ background: true }); }, Date.parse(d.room.opens_at) - Date.now() + 1000);
  }

  function render(d) {
    followOpening(d);
    for (const [name, card] of Object.entries(cardsOf(d, cards))) slots[name] = { place: h("div", { class: "slot" }, card.draw()), shows: JSON.stringify(card.shows) };
    fiche = ficheCard({ dossier: d, session, onChanged: show });
    slots.fiche = { place: h("div", { class: "slot" }, fiche) };
    queueMicrotask(markEnter);
    root.replaceChildren(
      slots.head.place,
      presence,
      h("div", { class: "dossier-grid" },
        h("div", { class: "dossier-column" }, slots.consultation.place, slots.fiche.place),
        h("div", { class: "dossier-column" }, slots.invitations.place, slots.region.place, slots.documents.place, slots.cancellation.place)));
  }

  // The dossier read again: the cards whose content changed are drawn again. The fiche too, its
  // opinion or signature come from the specialist, unless the nurse is writing in it.
  function redraw(d) {
    followOpening(d);
    for (const [name, card] of Object.entries(cardsOf(d, cards))) {
      const shows = JSON.stringify(card.shows);
      if (shows === slots[name].shows) continue;
      fill(slots[name].place, card.draw());
      slots[name].shows = shows;
    }
    const typing = fiche.contains(document.activeElement) && document.activeElement.matches("textarea, input");
    if (fiche.showing() !== JSON.stringify([d.state, d.fiche]) && !fiche.unsaved() && !typing) {
      fiche = ficheCard({ dossier: d, session, onChanged: show });
      fill(slots.fiche.place, fiche);
    }
    markEnter();
  }

  load();
  return root;
}

// Seed 001 §4: only the consulted doctor's signature closes a dossier; the EHPAD may call a
// teleconsultation off, saying why (two taps: it revokes every link sent).
function cancellationCard(d, reload) {
  if (d.state === "cancelled") {
    return h("section", { class: "card" }, h("p", { class: "notice-box", role: "status" }, D().cancelledBecause(d.cancellation?.reason || "")));
  }
  if (d.state === "closed") return null;
  const confirm = twoTaps(D().cancel, D().cancelConfirm, () => cancel());
  const reason = h("textarea", { id: "cancel-reason", rows: 2, maxlength: 500 });
  const cancel = async () => {
    try {
      await api("POST", `/dossiers/${encodeURIComponent(d.id)}/cancellation`, { reason: reason.value.trim() });
      toast(D().cancelledToast);
      reload();
    } catch (error) { reportError(error); }
  };
  return h("section", { class: "card cancellation" }, h("h2", {}, D().cancelTitle), h("p", { class: "hint" }, D().cancelLead),
    h("div", { class: "field" }, h("label", { for: "cancel-reason" }, D().cancelReason), reason),
    h("button", { class: "button secondary danger", type: "button", onclick: (event) => {
      // No reason, no second tap asked: the button says nothing it will not do.
      if (reason.value.trim().length < 3) { toast(D().cancelNeedsReason, "error"); reason.focus(); return; }
      confirm(event);
    } }, D().cancel));
}

// "Actualiser" and the invitations; `reload` reads them again.
function invitationsCard(d, reload) {
  return h("section", { class: "card" },
    h("div", { class: "invitations-head" },
      h("h2", {}, D().invitations),
      h("button", { class: "button secondary", type: "button", onclick: reload }, icon("refresh"), T.refresh)),
    d.invitations.length ? h("ul", { class: "invitations" }, d.invitations.map((inv) => invitationCard(d, inv, reload)))
      : h("p", { class: "hint" }, D().noInvitation));
}

// "Retour", who the resident is, "Entrer en salle" (or when the room opens), "Terminer", the state.
function dossierHead(d, { onBack, onCall, onEnd, onIdentity }) {
  const p = d.patient;
  return h("div", { class: "dossier-head" },
    h("button", { class: "button secondary", type: "button", onclick: onBack }, D().back),
    h("div", {},
      h("h1", {}, p.display_name),
      h("p", { class: "hint" }, `${T.bornOn(p.sex, frDate(p.birth_date), ageOn(p.birth_date))} · ${D().number(d.id.slice(0, 8))}`,
        h("button", { class: "linkish", type: "button", "data-identity": "", onclick: () => onIdentity(p.id) }, T.identityCheck.open))),
    roomOpen(d) ? h("button", { id: "enter-room", class: "button primary", type: "button", onclick: onCall }, D().enterRoom)
      : roomLater(d) ? h("span", { class: "hint room-later" }, D().roomOpensAt(frTime(new Date(d.room.opens_at)))) : null,
    d.state === "in_progress" && d.kind !== "teleexpertise" ? h("button", { class: "button secondary", type: "button", onclick: onEnd }, D().end) : null,
    h("span", { class: `badge state-${d.state}` }, T.states[d.state] || d.state_label));
}

// Whether the dossier is on the regional server yet (filled once asked).
function regionalState(dossierId) {
  const line = h("span", { "data-regional": "" }, "…");
  api("GET", `/dossiers/${dossierId}/sync`, undefined, { background: true })
    .then((s) => { line.textContent = s.waiting ? T.sync.dossierWaiting(s.waiting) : T.sync.dossierSent; })
    .catch(() => { line.textContent = ""; });
  return line;
}

// The consultation's facts: slot, room, doctor, accompaniment, consent, the regional server.
function consultationCard(d) {
  const companion = d.accompaniment.companion;
  const room = d.room ? roomWindow(d.room) : null;
  const expertise = d.kind === "teleexpertise" ? d.expertise : null;
  const late = expertise && d.state !== "closed" && Date.parse(expertise.deadline) < Date.now();
  return h("section", { class: "card" },
    h("h2", {}, expertise ? "Téléexpertise : avis écrit, sans appel" : D().consultation),
    h("dl", { class: "facts" },
      ...(expertise ? [...fact("Question posée", expertise.question),
                       ...fact("Avis attendu avant le", h("span", { class: late ? "late" : "" }, frWhen(expertise.deadline) + (late ? " — échéance dépassée" : "")))]
        : [...fact(D().slot, d.slot ? keep(`${frWhen(d.slot.start)} · ${T.minutes(d.slot.duration_minutes)}`) : null), ...fact(D().room, room)]),
      ...fact(D().specialist, d.specialist ? T.withSpecialist(d.specialist.display_name || d.specialist.name, d.specialist.specialty) : null),
      ...fact(D().accompaniment, T.wizard.kinds[d.accompaniment.kind].title
        + (companion ? ` : ${[companion.name.toUpperCase(), companion.first_name].filter(Boolean).join(" ")} (${companion.remote ? D().remote : D().present})` : "")),
      ...fact(T.sync.regional, regionalState(d.id)),
      ...fact(D().consent, d.consent.given ? D().consentGiven(d.consent.collected_by_name || d.consent.collected_by, frStamp(d.consent.collected_at))
        : D().consentRefused(d.consent.comment, d.consent.collected_by_name || d.consent.collected_by))));
}
