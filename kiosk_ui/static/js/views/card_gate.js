// The CPS card on the login and lock screens (issue 11): what the reader says, and once a CPS is
// in, its holder and a PIN pad big enough for a finger. The PIN goes to POST /session/card; the
// card's tries are said before each one, and the last is spent only after an explicit « je
// confirme ». A card pulled out while the pad shows takes the pad away with it.
import { api, ApiError } from "../api.js";
import { lastCard } from "../card.js";
import { h, icon } from "../dom.js";
import { T } from "../i18n.js";

const C = () => T.card;
const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "erase", "0", "ok"];

// `onCard(using)`: a CPS card is (or is no longer) ready, so the screen shows the pad instead of
// the password form. Returns the element; it follows the reader while it is on screen.
export function cardArea({ onSignedIn, onCard }) {
  const root = h("div", { class: "card-area", hidden: true });
  let shownFor = null;  // the holder the pad was built for

  function show(status) {
    if (!status || status.state === "off") {
      root.hidden = true;
      onCard(false);
      return;
    }
    root.hidden = false;
    if (status.state !== "cps") {
      shownFor = null;
      root.replaceChildren(h("p", { class: `card-status state-${status.state}`, role: "status" }, icon("card"), h("span", {}, status.message)));
      onCard(false);
      return;
    }
    const holder = status.holder?.display_name;
    if (shownFor === holder && root.querySelector(".pin-pad")) return;
    shownFor = holder;
    root.replaceChildren(pinPad(status, onSignedIn));
    onCard(true);
  }

  let mounted = false;
  const listener = (event) => {
    if (root.isConnected) mounted = true;
    else if (mounted) {  // the screen is gone: so is this listener
      window.removeEventListener("telecart:card", listener);
      return;
    }
    show(event.detail);
  };
  window.addEventListener("telecart:card", listener);
  queueMicrotask(() => show(lastCard()));
  return root;
}

function pinPad(status, onSignedIn) {
  const input = h("input", { id: "pin", name: "pin", type: "password", inputmode: "numeric", autocomplete: "off", maxlength: 8,
    pattern: "[0-9]*", class: "code", "aria-describedby": "pin-tries" });
  const tries = h("p", { class: "hint", id: "pin-tries" });
  const alert = h("div", { class: "alert", role: "alert", hidden: true });
  const confirm = h("button", { class: "button danger block", type: "button", hidden: true }, C().confirmLastTry);
  const form = h("form", { class: "pin-pad", novalidate: true },
    h("p", { class: "card-holder" }, icon("card"), h("strong", {}, status.message)),
    h("div", { class: "field" }, h("label", { for: "pin" }, C().pinLabel), input),
    tries, alert,
    h("div", { class: "keypad" }, KEYS.map((key) => keypadKey(key, input))),
    confirm);
  let lastTry = false;

  const say = (message) => { alert.textContent = message; alert.hidden = false; };
  function showTries(left) {
    if (left === null || left === undefined) { tries.textContent = ""; return; }
    lastTry = left === 1;
    tries.textContent = left === 0 ? C().blocked : C().tries(left);
    tries.classList.toggle("warning", left <= 1);
    confirm.hidden = !lastTry;
    if (lastTry) say(C().lastTry);
  }
  api("GET", "/card").then((card) => showTries(card.tries_left)).catch(() => {});

  async function send(confirmLastTry) {
    const pin = input.value.replace(/\D/g, "");
    if (pin.length < 4) { input.focus(); return; }
    if (lastTry && !confirmLastTry) { say(C().lastTry); confirm.focus(); return; }
    alert.hidden = true;
    form.classList.add("busy");
    try {
      onSignedIn(await api("POST", "/session/card", { pin, confirm_last_try: confirmLastTry }));
    } catch (error) {
      input.value = "";
      say(error instanceof ApiError ? error.message : T.genericError);
      const card = await api("GET", "/card").catch(() => null);
      if (card) showTries(card.tries_left);
      if (!lastTry) input.focus();
    } finally {
      form.classList.remove("busy");
    }
  }
  form.addEventListener("submit", (event) => { event.preventDefault(); send(false); });
  confirm.addEventListener("click", () => send(true));
  setTimeout(() => input.focus(), 0);
  return form;
}

function keypadKey(key, input) {
  if (key === "ok") return h("button", { class: "button primary key", type: "submit" }, C().validate);
  if (key === "erase") {
    return h("button", { class: "button secondary key", type: "button", onclick: () => { input.value = input.value.slice(0, -1); } }, C().erase);
  }
  return h("button", { class: "button secondary key digit", type: "button",
    onclick: () => { if (input.value.length < 8) input.value += key; } }, key);
}
