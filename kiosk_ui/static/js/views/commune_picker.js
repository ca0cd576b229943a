// The commune of birth as the identity card says it: the nurse types the start of its name (or a
// postal code) and taps it in the list; the INSEE code the identity keeps (a strict trait of the
// INS) comes with it, so nobody has to know that Lyon is 69123. A former commune (merged since)
// is in the list under its own name, its code being the one its natives carry.
import { api } from "../api.js";
import { h } from "../dom.js";
import { T } from "../i18n.js";

const F = () => T.identityForm;
const WAIT_MS = 200; // typing goes on: ask once it pauses

// `v.birth_insee` is the chosen code (null while what is typed matches no choice), `v.birth_place`
// its name, `v.birth_commune` what is typed; `edited()` hears each change.
export function communePicker(v, edited, readOnly) {
  const input = h("input", {
    id: "new-birth_commune", type: "text", autocomplete: "off", value: v.birth_commune ?? v.birth_place ?? v.birth_insee ?? "",
    readonly: readOnly || null, role: "combobox", "aria-autocomplete": "list", "aria-controls": "commune-choices",
    "aria-expanded": "false", "aria-describedby": "new-birth_commune-hint",
  });
  const chosen = h("span", { class: "said", role: "status" });
  const list = h("ul", { class: "commune-choices", id: "commune-choices", role: "listbox", hidden: true });
  const sayChosen = () => { chosen.textContent = v.birth_insee ? F().communeChosen(v.birth_insee) : ""; };
  const close = () => { list.hidden = true; input.setAttribute("aria-expanded", "false"); };
  const pick = (commune) => {
    Object.assign(v, { birth_insee: commune.code, birth_place: commune.label, birth_commune: commune.label });
    input.value = commune.label;
    close();
    sayChosen();
    edited(input);
  };
  let asked = 0;
  let timer = null;
  const ask = async () => {
    const typed = input.value.trim();
    const mine = ++asked;
    if (typed.length < 2) return close();
    const { items } = await api("GET", `/communes?${new URLSearchParams({ q: typed })}`).catch(() => ({ items: null }));
    if (mine !== asked) return; // a later keystroke asked again
    list.replaceChildren(...(items === null ? [h("li", { class: "hint" }, F().communeSearchFailed)]
      : items.length ? items.map((c) => choice(c, pick)) : [h("li", { class: "hint" }, F().communeNone)]));
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  };
  input.addEventListener("input", () => {
    Object.assign(v, { birth_insee: null, birth_place: null, birth_commune: input.value });
    sayChosen();
    edited(input);
    clearTimeout(timer);
    timer = setTimeout(ask, WAIT_MS);
  });
  // Back in a field whose text was never picked: the list again. Out of the field (a tap anywhere
  // else): the list goes.
  input.addEventListener("focus", () => { if (!v.birth_insee && !readOnly) ask(); });
  const field = h("div", { class: "field commune-field" },
    h("label", { for: "new-birth_commune" }, F().birthCommune),
    h("span", { class: "hint", id: "new-birth_commune-hint" }, F().birthCommuneHint),
    h("div", { class: "commune-box" }, input, list), chosen);
  field.addEventListener("focusout", (event) => { if (!field.contains(event.relatedTarget)) close(); });
  sayChosen();
  return field;
}

function choice(commune, pick) {
  return h("li", { role: "option" },
    h("button", { type: "button", class: "commune-choice", onclick: () => pick(commune) },
      h("span", { class: "name" }, commune.label),
      h("span", { class: "meta" }, commune.current ? F().communeCode(commune.code) : F().communeFormer(commune.code))));
}
