// Who is already in the room, on the dossier before the doctor enters (seed 001 §3.1 « Si la salle
// est déjà occupée, vous verrez le nombre de participants apparaitre ainsi que leur nom »), asked
// again every few seconds while the page shows it. The question does not keep the link session
// alive (agent/api/routes/link.py room_presence): a page left alone still ends.
import { askAgain } from "/static/js/ask_again.js";
import { h } from "/static/js/dom.js";

const EVERY_MS = 4000;
const ROLE = { specialist: "médecin requis", relative: "proche", professional: "professionnel de santé", guest: "invité" };

const count = (n, one, many) => `${n} ${n > 1 ? many : one}`;

export function roomPresence(linkApi) {
  const line = h("p", { class: "presence-count" });
  const names = h("ul", { class: "presence-names" });
  const waiting = h("p", { class: "hint presence-waiting", hidden: true });
  const el = h("div", { class: "presence", role: "status", "aria-live": "polite", hidden: true }, line, names, waiting);

  const show = (room) => {
    const people = [...(room.cart_in_call ? [{ id: "cart", name: "Le chariot", role: "équipe soignante" }] : []),
      ...room.present.map((p) => ({ ...p, role: ROLE[p.role] || p.role }))];
    line.textContent = people.length ? `Dans la salle : ${count(people.length, "participant", "participants")}`
      : "La salle est vide : personne n'y est encore entré.";
    names.replaceChildren(...people.map((p) => h("li", { "data-present": p.id }, h("strong", {}, p.name), ` (${p.role})`)));
    waiting.hidden = room.waiting.length === 0;
    waiting.textContent = `${count(room.waiting.length, "personne attend", "personnes attendent")} en salle d'attente : `
      + `${room.waiting.map((w) => w.name).join(", ")}.`;
    el.classList.toggle("occupied", people.length > 0);
    el.hidden = false;
  };

  // Asked once the element is on the page (the next turn of the event loop), until the dossier is
  // drawn again (a newer element asks) or the room no longer opens to this link (403).
  askAgain(`${linkApi}/room`, { every: EVERY_MS, answer: show, skip: () => document.hidden, stop: () => !el.isConnected,
                                endsOn: [403], onEnd: () => { el.hidden = true; } });
  return el;
}
