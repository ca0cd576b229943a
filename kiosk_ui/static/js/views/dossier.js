// A dossier's page: who, when, consent, accompaniment, and the invitations with what became of
// each email and SMS (sent, waiting for the network, refused), with resend and revoke (seed 000
// §2.3.1 "Renvoi d'invitation").
import { api } from "../api.js";
import { h, reportError, toast } from "../dom.js";
import { T, ageOn, frDate, frStamp, frWhen } from "../i18n.js";

const D = () => T.dossier;

function deliveryLine(d) {
  const channel = d.channel === "email" ? D().byEmail : D().bySms;
  const state = d.state === "sent" ? D().sent(frStamp(d.sent_at))
    : d.state === "failed" ? D().failed(d.last_error || "")
      : d.last_error ? D().waiting(d.last_error) : D().queued;
  return h("li", { class: `delivery delivery-${d.state}` }, h("strong", {}, `${channel} ${d.recipient}`), " — ", state);
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
  const name = [inv.name ? inv.name.toUpperCase() : null, inv.first_name].filter(Boolean).join(" ") || D().unnamed;
  return h("li", { class: `invitation ${inv.revoked_at ? "revoked" : ""}`, "data-invitation": inv.id },
    h("div", { class: "invitation-head" },
      h("span", { class: "who" }, `${inv.role_label} · ${name}`),
      inv.revoked_at ? h("span", { class: "badge state-closed" }, D().revoked) : null),
    h("ul", { class: "deliveries" }, inv.deliveries.map(deliveryLine)),
    inv.revoked_at ? null : h("div", { class: "actions-row" },
      h("button", { class: "button secondary", type: "button", onclick: act("POST", "/resend", D().resent) }, D().resend),
      h("button", { class: "button secondary danger", type: "button", onclick: act("DELETE", "", D().revokedToast) }, D().revoke)));
}

function fact(label, value) {
  return [h("dt", {}, label), h("dd", {}, value || "—")];
}

export function dossierView({ id, onBack }) {
  const root = h("div", { class: "dossier-page" }, h("p", { class: "hint" }, T.wizard.loading));

  async function load() {
    let d;
    try {
      d = await api("GET", `/dossiers/${encodeURIComponent(id)}`);
    } catch (error) {
      reportError(error);
      root.replaceChildren(h("div", { class: "card" }, h("p", {}, error.message)));
      return;
    }
    const p = d.patient;
    const companion = d.accompaniment.companion;
    const room = d.room ? D().window(frWhen(d.room.opens_at), frWhen(d.room.closes_at)) : null;
    root.replaceChildren(
      h("div", { class: "dossier-head" },
        h("button", { class: "button secondary", type: "button", onclick: onBack }, D().back),
        h("div", {},
          h("h1", {}, p.display_name),
          h("p", { class: "hint" }, `${T.bornOn(p.sex, frDate(p.birth_date), ageOn(p.birth_date))} · ${D().number(d.id.slice(0, 8))}`)),
        h("span", { class: `badge state-${d.state}` }, d.state_label)),
      h("div", { class: "dossier-grid" },
        h("section", { class: "card" },
          h("h2", {}, D().consultation),
          h("dl", { class: "facts" },
            ...fact(D().slot, d.slot ? `${frWhen(d.slot.start)} · ${T.minutes(d.slot.duration_minutes)}` : null),
            ...fact(D().room, room),
            ...fact(D().specialist, d.specialist ? T.withSpecialist(d.specialist.display_name || d.specialist.name, d.specialist.specialty) : null),
            ...fact(D().accompaniment, T.wizard.kinds[d.accompaniment.kind].title
              + (companion ? ` : ${companion.name.toUpperCase()} ${companion.first_name || ""} (${companion.remote ? D().remote : D().present})` : "")),
            ...fact(D().consent, d.consent.given ? D().consentGiven(d.consent.collected_by, frStamp(d.consent.collected_at))
              : D().consentRefused(d.consent.comment, d.consent.collected_by)),
            ...fact(D().reason, d.reason))),
        h("section", { class: "card" },
          h("h2", {}, D().invitations),
          d.invitations.length ? h("ul", { class: "invitations" }, d.invitations.map((inv) => invitationCard(d, inv, load)))
            : h("p", { class: "hint" }, D().noInvitation))),
    );
  }
  load();
  return root;
}
