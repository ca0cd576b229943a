// On a desktop screen (1200 px and wider) the doctor's call opens beside the dossier rather than in
// another tab (issue 16): the room on the left, the fiche, vitals and documents on the right, each
// scrolling on its own. A phone keeps the room's own page (?vue=appel).
import { h } from "/static/js/dom.js";
import { joinCall } from "/static/call/join.js";

export const WIDE = "(min-width: 1200px)";

export function besideOpen() {
  return document.body.classList.contains("beside-call");
}

// `onNotice`: what the room announces to everyone (a photo or a document added to the dossier).
export function openBeside({ room, token, name, onNotice, onSessionEnded }) {
  const link = `/s/${room}/${token}`;
  const column = h("section", { id: "call-beside", class: "room-beside", "aria-label": "Téléconsultation" });
  document.getElementById("specialist").before(column);
  document.body.classList.add("beside-call");
  fitStage(column);
  joinCall(column, {
    socket: `${link}/ws`, role: "specialist", name, documents: `${link}/documents`, onSessionEnded,
    onRoom: (live) => live.addEventListener("notice", onNotice),
    onClose: () => { column.remove(); document.body.classList.remove("beside-call"); },
  });
}

// The pictures take the column's height that the buttons under them leave, so that « Quitter » is
// on screen without scrolling however many rows the buttons wrap to (the panels come further down).
function fitStage(column) {
  const fit = () => {
    const controls = column.querySelector(".call .controls");
    if (!controls) return;
    const style = getComputedStyle(column);
    const gap = parseFloat(getComputedStyle(controls.parentElement).rowGap) || 0;
    const free = column.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom) - controls.offsetHeight - gap;
    column.style.setProperty("--stage-height", `${Math.max(320, Math.floor(free))}px`);
  };
  const sizes = new ResizeObserver(fit);
  sizes.observe(column);
  new MutationObserver(() => {  // the room drawn (after the check step): watch its buttons' rows
    const controls = column.querySelector(".call .controls");
    if (controls) sizes.observe(controls);
    fit();
  }).observe(column, { childList: true });
}
