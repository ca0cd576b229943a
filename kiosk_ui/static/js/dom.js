// Builds DOM nodes without innerHTML, so names typed by users can never inject markup.
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  return appendChildren(node, children);
}

// `node`'s children replaced by `children`, as `h` takes them: a null, undefined or false child
// (a part shown only sometimes) is left out, where the DOM's replaceChildren would write "null".
export function fill(node, ...children) {
  node.replaceChildren();
  return appendChildren(node, children);
}

function appendChildren(node, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";

// Small line icons (24x24 strokes), drawn here so that nothing is fetched from outside.
const ICONS = {
  lock: ["M7 11V8a5 5 0 0 1 10 0v3", "M5 11h14v10H5z", "M12 15v2"],
  logout: ["M15 4h4v16h-4", "M10 8l-4 4 4 4", "M6 12h11"],
  folder: ["M3 6h6l2 2h10v11H3z"],
  calendar: ["M4 6h16v14H4z", "M4 10h16", "M8 3v5", "M16 3v5"],
  list: ["M8 6h13", "M8 12h13", "M8 18h13", "M3 6h1", "M3 12h1", "M3 18h1"],
  refresh: ["M20 12a8 8 0 1 1-2.3-5.7", "M20 4v5h-5"],
  home: ["M3 11l9-7 9 7", "M5 10v10h14V10"],
  shield: ["M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6z"],
  plus: ["M12 5v14", "M5 12h14"],
  card: ["M3 5h18v14H3z", "M7 9h4v4H7z", "M14 10h4", "M14 14h4"],
  pulse: ["M3 12h4l2-5 4 10 2-5h6"],
};

export function icon(name, cls = "icon") {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", cls);
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("fill", "none");
  svg.setAttribute("stroke", "currentColor");
  svg.setAttribute("stroke-width", "2");
  svg.setAttribute("stroke-linecap", "round");
  svg.setAttribute("stroke-linejoin", "round");
  for (const d of ICONS[name] || []) {
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

export function field({ id, label, type = "text", hint, ...rest }) {
  return h("div", { class: "field" },
    h("label", { for: id }, label),
    hint ? h("span", { class: "hint", id: `${id}-hint` }, hint) : null,
    h("input", { id, name: id, type, "aria-describedby": hint ? `${id}-hint` : null, ...rest }),
  );
}

// An error from a view's request: signed-out and locked sessions already change the screen
// (api.js announces them), a lost agent has its banner, anything else is said in a toast.
export function reportError(error) {
  if (error.code === "network") return;  // the banner says it once (app.js), and goes when the agent answers
  if (error.status !== 401 && error.code !== "session_locked") toast(error.message, "error");
}

// The page of a searchable list (audit trail, residents): title, search form, results table.
export function recordsPage({ title, lead, form, summary, headers, tbody, after }) {
  return h("div", { class: "records-page" },
    h("div", {}, h("h1", {}, title), h("p", { class: "hint" }, lead)),
    form,
    h("section", { class: "card results" },
      summary || null,
      h("div", { class: "table-wrap" },
        h("table", { class: "records" },
          h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col" }, t)))),
          tbody),
        after.note || null),
      h("div", {}, after.more)));
}

// One message at a time (a stack of them hid the screen): a new one replaces the last; an error
// stays longer. Placed where no main button sits (css: bottom centre; over a call, in the picture).
export function toast(message, kind = "info") {
  const box = document.getElementById("toasts");
  const item = h("div", { class: `toast ${kind === "error" ? "error" : ""}` }, message);
  box.replaceChildren(item);
  setTimeout(() => item.remove(), kind === "error" ? 8000 : 5000);
}

// What cannot be undone (revoking a link, signing, dropping a draft) takes two taps and no browser
// dialog: the first arms the button for a few seconds under `confirmLabel`, the second acts, so a
// glove brushing it does nothing.
export function twoTaps(label, confirmLabel, action) {
  return (event) => {
    const button = event.currentTarget;
    if (!button.dataset.armed) {
      button.dataset.armed = "1";
      button.textContent = confirmLabel;
      setTimeout(() => { delete button.dataset.armed; button.textContent = label; }, 4000);
      return;
    }
    action();
  };
}

// Dates read jj/mm/aaaa and times 14:30 whatever the browser's language (issue 17): native
// <input type="date"> and "time" follow the browser's locale (mm/dd/yyyy and 02:30 PM on an English
// Chromium). These turn an input into a text field that shows and takes the French form
// (separators added as she types), while its `value` stays what the code reads and writes: ISO
// aaaa-mm-jj and hh:mm, "" until complete.
const nativeValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value");

function typedAs(input, { placeholder, maxLength, shape, read, write }) {
  const initial = input.getAttribute("value") || "";
  Object.assign(input, { type: "text", inputMode: "numeric", placeholder, maxLength, autocomplete: "off" });
  Object.defineProperty(input, "value", {
    get() { return read(nativeValue.get.call(this)); },
    set(v) { nativeValue.set.call(this, write(v)); },
  });
  input.value = initial;
  // Capture: reshaped before the field's own listeners read `value`.
  input.addEventListener("input", () => {
    const raw = nativeValue.get.call(input);
    const shaped = shape(raw);
    if (shaped !== raw) nativeValue.set.call(input, shaped);
  }, true);
  return input;
}

export function frenchDateInput(input) {
  return typedAs(input, { placeholder: "jj/mm/aaaa", maxLength: 10, shape: shapeDate, read: isoOf, write: frenchOf });
}

export function frenchTimeInput(input) {
  return typedAs(input, { placeholder: "hh:mm", maxLength: 5, shape: shapeTime, read: (text) => (/^([01]\d|2[0-3]):[0-5]\d$/.test(text) ? text : ""), write: (v) => v || "" });
}

// "1430" -> "14:30", "930" -> "09:30", "14h30" -> "14:30".
function shapeTime(raw) {
  let digits = raw.replace(/\D/g, "");
  if (/^[3-9]/.test(digits)) digits = `0${digits}`;
  digits = digits.slice(0, 4);
  return digits.length > 2 ? `${digits.slice(0, 2)}:${digits.slice(2)}` : digits;
}

function isoOf(text) {
  const m = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(text || "");
  return m ? `${m[3]}-${m[2]}-${m[1]}` : "";
}

function frenchOf(value) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value || "");
  return m ? `${m[3]}/${m[2]}/${m[1]}` : (value || "");
}

// "05041937" -> "05/04/1937"; "1937-04-05" (pasted) -> "05/04/1937".
function shapeDate(raw) {
  if (/^\d{4}-\d{2}-\d{2}$/.test(raw)) return frenchOf(raw);
  const digits = raw.replace(/\D/g, "").slice(0, 8);
  return [digits.slice(0, 2), digits.slice(2, 4), digits.slice(4)].filter(Boolean).join("/");
}

// A labelled date field that takes jj/mm/aaaa (see frenchDateInput).
export function dateField(options) {
  const el = field(options);
  frenchDateInput(el.querySelector("input"));
  return el;
}
