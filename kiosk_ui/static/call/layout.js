// How the room's pictures are laid out (seed 000 §2.4 « Changer l'affichage des vignettes »):
// « Intervenant en grand », one picture large and the others in a strip under it (the cart's at
// first, any other by touching it), or « Mosaïque », every picture the same size. The choice is
// kept on this browser. The tiles are the children of `area`, however many come and go.
import { h } from "/static/js/dom.js";

const KEY = "telecart-layout";
const MODES = { speaker: "Intervenant en grand", mosaic: "Mosaïque" };

export function layoutChoice(area, { first = "cart" } = {}) {
  let mode = "speaker";
  try { if (localStorage.getItem(KEY) === "mosaic") mode = "mosaic"; } catch { /* not kept: the default */ }
  let large = first;
  const buttons = Object.entries(MODES).map(([value, label]) => h("button", {
    class: "button control", type: "button", "data-layout": value, onclick: () => choose(value) }, label));

  function apply() {
    const tiles = [...area.children].filter((el) => el.classList.contains("tile"));
    if (!tiles.some((tile) => tile.dataset.peer === large)) large = first;  // the large one left: back to the cart
    area.classList.toggle("mosaic", mode === "mosaic");
    area.classList.toggle("speaker", mode === "speaker");
    for (const tile of tiles) {
      tile.classList.toggle("main", mode === "speaker" && tile.dataset.peer === large);
      tile.title = mode === "speaker" && tile.dataset.peer !== large ? "Afficher en grand" : "";
    }
    for (const button of buttons) button.setAttribute("aria-pressed", String(button.dataset.layout === mode));
  }

  function choose(value) {
    mode = value;
    try { localStorage.setItem(KEY, value); } catch { /* chosen for this page only */ }
    apply();
  }

  area.addEventListener("click", (event) => {
    const tile = event.target.closest(".tile");
    if (!tile || mode !== "speaker" || !area.contains(tile)) return;
    large = tile.dataset.peer;
    apply();
  });
  new MutationObserver(apply).observe(area, { childList: true });
  apply();
  return h("div", { class: "layout-choice", role: "group", "aria-label": "Affichage des vignettes" }, buttons);
}
