// The seven steps of the creation wizard. Each step renders from the draft, writes every input
// back into it (ctx.changed() saves it), and says in French what is missing before "Suivant".
import { api } from "../api.js";
import { field, frenchDateInput, frenchTimeInput, h, reportError } from "../dom.js";
import { T, frDate, frPhone, frTime, frWhen } from "../i18n.js";
import { identityCheck } from "./identity_check.js";
import { identityForm } from "./identity_form.js";
import { identitySearch } from "./residents.js";

const W = () => T.wizard;

// A field whose input takes jj/mm/aaaa or hh:mm (dom.js); returns the field.
function frenchDate(fieldEl) {
  frenchDateInput(fieldEl.querySelector("input"));
  return fieldEl;
}

function frenchTime(fieldEl) {
  frenchTimeInput(fieldEl.querySelector("input"));
  return fieldEl;
}

// An input bound to `obj[key]`: typing updates the draft and schedules its save.
function bound(ctx, obj, key, { id, label, type = "text", hint, ...rest }) {
  return field({
    id, label, type, hint, value: obj[key] ?? "", ...rest,
    oninput: (e) => { obj[key] = e.target.value; ctx.changed(); },
  });
}

function bigChoice({ name, value, checked, title, text, onpick }) {
  return h("label", { class: "big-choice" },
    h("input", { type: "radio", name, value, checked, onchange: onpick }),
    h("span", { class: "big-choice-text" }, h("strong", {}, title), text ? h("span", { class: "hint" }, text) : null));
}

// --- 1. RECHERCHE D'IDENTITÉ ----------------------------------------------------------------------
function searchStep(ctx) {
  const { draft } = ctx;
  if (draft.creating) {
    return identityForm({
      values: draft.creating,
      onChange: ctx.changed,
      onCancel: () => { draft.creating = null; ctx.changed(); ctx.render(); },
      onCreated: (patient) => { draft.creating = null; pick(ctx, patient); },
      onPickExisting: (patient) => { draft.creating = null; pick(ctx, patient); },
    });
  }
  return identitySearch({
    initial: draft.search,
    onTyped: (typed) => { draft.search = typed; ctx.changed(); },
    onPick: (patient) => pick(ctx, patient),
    onCreate: (typed) => {
      draft.creating = { birth_name: (typed.name || "").toUpperCase(), first_name: typed.first_name || "", birth_date: typed.birth_date || "" };
      ctx.changed();
      ctx.render();
    },
  });
}

function pick(ctx, patient) {
  ctx.draft.patient = { id: patient.id, display_name: patient.display_name, birth_date: patient.birth_date, sex: patient.sex };
  ctx.next();
}

// --- 2. VALIDATION DE L'IDENTITÉ ------------------------------------------------------------------
function validationStep(ctx) {
  return identityCheck({
    patientId: ctx.draft.patient.id, hint: W().checkIdentity,
    onSaved: (p) => { ctx.draft.patient = { ...ctx.draft.patient, display_name: p.display_name, birth_date: p.birth_date, sex: p.sex }; ctx.changed(); },
  });
}

// --- 3. CONSENTEMENT --------------------------------------------------------------------------------
function consentStep(ctx) {
  const c = ctx.draft.consent;
  const comment = h("div", { class: "field", hidden: c.given !== false },
    h("label", { for: "consent-comment" }, W().consentComment),
    h("textarea", { id: "consent-comment", rows: 3, oninput: (e) => { c.comment = e.target.value; ctx.changed(); } }, c.comment || ""));
  const choose = (given) => () => {
    c.given = given;
    comment.hidden = given;
    ctx.changed();
    if (!given && !c.comment) comment.querySelector("textarea").focus();  // the comment is what comes next
  };
  return h("div", { class: "form" },
    h("p", {}, W().consentLead),
    h("div", { class: "big-choices" },
      bigChoice({ name: "consent", value: "yes", checked: c.given === true, title: W().consentGiven, text: W().consentGivenText, onpick: choose(true) }),
      bigChoice({ name: "consent", value: "no", checked: c.given === false, title: W().consentRefused, text: W().consentRefusedText, onpick: choose(false) })),
    comment);
}

function consentProblem(draft) {
  if (draft.consent.given === null) return W().needConsent;
  if (draft.consent.given === false && !draft.consent.comment.trim()) return W().needConsentComment;
  return null;
}

// --- 4. ACCOMPAGNANT --------------------------------------------------------------------------------
function accompanimentStep(ctx) {
  const a = ctx.draft.accompaniment;
  const companion = a.companion;
  const contact = h("div", { class: "form-row", hidden: !companion.remote },
    bound(ctx, companion, "email", { id: "companion-email", label: W().companionEmail, type: "email", autocomplete: "off" }),
    bound(ctx, companion, "mobile", { id: "companion-mobile", label: W().companionMobile, type: "tel", inputmode: "tel", autocomplete: "off" }));
  const where = h("fieldset", { class: "choice" },
    h("legend", {}, W().companionWhere),
    ...[[false, W().companionPresent], [true, W().companionRemote]].map(([remote, label]) =>
      h("label", { class: "option" },
        h("input", { type: "radio", name: "remote", value: String(remote), checked: companion.remote === remote,
          onchange: () => {
            companion.remote = remote;
            contact.hidden = !remote;
            ctx.changed();
            if (remote) contact.scrollIntoView({ block: "nearest" });
          } }),
        label)));
  const details = h("div", { class: "form companion", hidden: !a.kind || a.kind === "alone" },
    h("h3", {}, W().companionTitle),
    h("div", { class: "form-row" },
      bound(ctx, companion, "name", { id: "companion-name", label: W().companionName, autocomplete: "off" }),
      bound(ctx, companion, "first_name", { id: "companion-first-name", label: W().companionFirstName, autocomplete: "off" })),
    where, contact);
  const choose = (kind) => () => {
    a.kind = kind;
    details.hidden = kind === "alone";
    ctx.changed();
    if (kind !== "alone") {
      details.scrollIntoView({ block: "nearest" });
      if (!companion.name) details.querySelector("#companion-name").focus({ preventScroll: true });
    }
  };
  return h("div", { class: "form" },
    h("div", { class: "big-choices three" },
      ...["alone", "relative", "professional"].map((kind) => bigChoice({
        name: "accompaniment", value: kind, checked: a.kind === kind, title: W().kinds[kind].title, text: W().kinds[kind].text, onpick: choose(kind),
      }))),
    details);
}

function accompanimentProblem(draft) {
  const a = draft.accompaniment;
  if (!a.kind) return W().needKind;
  if (a.kind === "alone") return null;
  if (!a.companion.name.trim()) return W().needCompanionName;
  if (a.companion.remote && !a.companion.email.trim() && !a.companion.mobile.trim()) return W().needCompanionContact;
  return null;
}

// --- 5. MÉDECIN REQUIS ------------------------------------------------------------------------------
function specialistStep(ctx) {
  const s = ctx.draft.specialist;
  if (s.mode === "manual") {
    const m = s.manual;
    return h("div", { class: "form" },
      h("p", {}, W().manualLead),
      h("div", { class: "form-row" },
        bound(ctx, m, "name", { id: "specialist-name", label: W().specialistName, autocomplete: "off" }),
        bound(ctx, m, "first_name", { id: "specialist-first-name", label: W().specialistFirstName, autocomplete: "off" }),
        bound(ctx, m, "specialty", { id: "specialist-specialty", label: W().specialty, autocomplete: "off" })),
      h("div", { class: "form-row" },
        bound(ctx, m, "rpps", { id: "specialist-rpps", label: W().rpps, inputmode: "numeric", autocomplete: "off" }),
        bound(ctx, m, "email", { id: "specialist-email", label: W().specialistEmail, type: "email", autocomplete: "off" }),
        bound(ctx, m, "mobile", { id: "specialist-mobile", label: W().specialistMobile, type: "tel", inputmode: "tel", autocomplete: "off" })),
      h("div", {}, h("button", { class: "linkish", type: "button", onclick: () => { s.mode = "directory"; ctx.changed(); ctx.render(); } }, W().backToDirectory)));
  }
  const list = h("ul", { class: "list directory" });
  const search = h("input", { id: "directory-search", type: "search", placeholder: W().directorySearch, autocomplete: "off",
    "aria-label": W().directorySearch, "data-no-autofocus": "" });
  let asked = 0;
  async function load() {
    const mine = ++asked;  // typing fast: only the answer to the last search fills the list
    try {
      const { items } = await api("GET", `/directory?${new URLSearchParams(search.value.trim() ? { q: search.value.trim() } : {})}`);
      if (mine !== asked) return;
      list.replaceChildren(...(items.length ? items.map((p) => h("li", {},
        h("label", { class: "big-choice" },
          h("input", { type: "radio", name: "professional", value: String(p.id), checked: s.directory_id === p.id,
            onchange: () => {
              Object.assign(s, { directory_id: p.id, directory_label: `${p.display_name} — ${p.specialty}`, directory_name: p.display_name, directory_rpps: p.rpps });
              ctx.changed();
              notice.check();
            } }),
          h("span", { class: "big-choice-text" }, h("strong", {}, p.display_name),
            h("span", { class: "hint" }, [p.specialty, p.rpps ? `RPPS ${p.rpps}` : null, p.email, frPhone(p.mobile)].filter(Boolean).join(" · "))))))
        : [h("li", { class: "hint" }, W().directoryEmpty)]));
    } catch (error) {
      reportError(error);
    }
  }
  search.addEventListener("input", () => load());
  load();
  const notice = sameDoctorNotice(ctx);
  // "Je ne trouve pas le professionnel" beside the search, not under a list that may be long.
  return h("div", { class: "form" },
    notice.box,
    h("div", { class: "directory-search" },
      h("div", { class: "field" }, search),
      h("button", { class: "button secondary", type: "button", "data-not-found": "",
        onclick: () => { s.mode = "manual"; s.directory_id = null; ctx.changed(); ctx.render(); } }, W().notFound)),
    list);
}

// A second consultation with the same doctor for the same resident is more often a slip (the
// first one forgotten, two nurses asking) than a need: said before it is made, not refused.
const PLANNED = new Set(["scheduled", "in_progress"]);
const plainName = (name) => (name || "").normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().replace(/^dr\.?\s+/, "").replace(/[^a-z]/g, "");

function sameDoctor(d, s) {
  if (s.mode === "directory") {
    return (s.directory_id != null && d.specialist_directory_id === s.directory_id)
      || Boolean(s.directory_rpps && d.specialist_rpps === s.directory_rpps)
      || Boolean(s.directory_name && plainName(d.specialist) === plainName(s.directory_name));
  }
  const m = s.manual;
  return Boolean(m.rpps.trim() && d.specialist_rpps === m.rpps.trim())
    || Boolean(m.name.trim() && plainName(d.specialist) === plainName(T.doctor(m.name.trim(), m.first_name.trim())));
}

function sameDoctorNotice(ctx) {
  const box = h("div", { class: "notice same-doctor", role: "status", hidden: true });
  let asked = 0;
  async function check() {
    const mine = ++asked;
    try {
      const { items } = await api("GET", `/dossiers?${new URLSearchParams({ patient_id: ctx.draft.patient.id })}`);
      const found = items.filter((d) => PLANNED.has(d.state) && sameDoctor(d, ctx.draft.specialist));
      if (mine !== asked) return;
      box.hidden = !found.length;
      box.replaceChildren(...(found.length ? [
        h("h3", {}, W().sameDoctorTitle),
        ...found.map((d) => h("p", {}, W().sameDoctor(ctx.draft.patient.display_name, d.specialist,
          d.state === "in_progress" ? T.states.in_progress.toLowerCase() : frWhen(d.slot_start)),
        " ", h("button", { class: "button secondary", type: "button", onclick: () => ctx.openDossier(d.id) }, W().sameDoctorOpen))),
      ] : []));
    } catch (error) {
      reportError(error);
    }
  }
  check();
  return { box, check };
}

function specialistProblem(draft) {
  const s = draft.specialist;
  if (s.mode === "directory") return s.directory_id ? null : W().needSpecialist;
  if (!s.manual.name.trim() || !s.manual.specialty.trim()) return W().needSpecialistName;
  if (!s.manual.email.trim() && !s.manual.mobile.trim()) return W().needSpecialistContact;
  return null;
}

// --- 6. CRÉNEAU -----------------------------------------------------------------------------------
const DURATIONS = [15, 20, 30, 45, 60];

function slotStep(ctx) {
  const slot = ctx.draft.slot;
  // The chosen day and hour said in French words: a browser without its French locale shows
  // "11/26/2026" and "02:30 PM" in its date and time fields.
  const said = h("p", { class: "said", role: "status", hidden: slot.now !== false });
  const say = () => {
    const start = slotStart(slot);
    said.textContent = slot.date && slot.time && !Number.isNaN(start.getTime())
      ? W().slotSaid(frWhen(start.toISOString()), frTime(new Date(start.getTime() - 15 * 60 * 1000))) : "";
  };
  const sayOnInput = (field) => { field.querySelector("input").addEventListener("input", say); return field; };
  const when = h("div", { class: "form-row", hidden: slot.now !== false },
    sayOnInput(frenchDate(bound(ctx, slot, "date", { id: "slot-date", label: W().slotDate }))),
    sayOnInput(frenchTime(bound(ctx, slot, "time", { id: "slot-time", label: W().slotTime }))));
  say();
  const choose = (now) => () => {
    slot.now = now;
    when.hidden = now;
    said.hidden = now;
    ctx.changed();
  };
  return h("div", { class: "form" },
    h("div", { class: "big-choices" },
      bigChoice({ name: "slot", value: "now", checked: slot.now === true, title: W().slotNow, text: W().slotNowText, onpick: choose(true) }),
      bigChoice({ name: "slot", value: "later", checked: slot.now === false, title: W().slotLater, text: W().slotLaterText, onpick: choose(false) })),
    when,
    said,
    h("fieldset", { class: "choice" },
      h("legend", {}, W().duration),
      ...DURATIONS.map((minutes) => h("label", { class: "option" },
        h("input", { type: "radio", name: "duration", value: String(minutes), checked: Number(slot.duration) === minutes,
          onchange: () => { slot.duration = minutes; ctx.changed(); } }),
        T.minutes(minutes)))),
    h("p", { class: "hint" }, W().roomWindow));
}

function slotStart(slot) {
  return new Date(`${slot.date}T${slot.time}`);
}

function slotProblem(draft) {
  const slot = draft.slot;
  if (slot.now === null) return W().needSlot;
  if (slot.now) return null;
  if (!slot.date || !slot.time) return W().needSlotDate;
  if (slotStart(slot) < new Date(Date.now() - 5 * 60 * 1000)) return W().slotPast;
  return null;
}

// --- 7. VALIDATION ------------------------------------------------------------------------------------
function request(draft) {
  const a = draft.accompaniment;
  const s = draft.specialist;
  const trimmed = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === "string" ? v.trim() || null : v]));
  return {
    patient_id: draft.patient.id,
    consent: { given: draft.consent.given, comment: draft.consent.comment.trim() || null },
    accompaniment: a.kind === "alone" ? { kind: "alone" }
      : { kind: a.kind, companion: trimmed({ ...a.companion, ...(a.companion.remote ? {} : { email: "", mobile: "" }) }) },
    specialist: s.mode === "directory" ? { directory_id: s.directory_id } : trimmed(s.manual),
    slot: draft.slot.now ? { now: true, duration_minutes: Number(draft.slot.duration) }
      : { start: slotStart(draft.slot).toISOString(), duration_minutes: Number(draft.slot.duration) },
    reason: draft.reason.trim() || null,
  };
}

function summaryRow(label, value, step, ctx) {
  return h("div", { class: "summary-row" },
    h("dt", {}, label), h("dd", {}, value),
    h("button", { class: "linkish", type: "button", onclick: () => { ctx.draft.step = step; ctx.changed(); ctx.render(); } }, W().change));
}

function finalStep(ctx) {
  const { draft } = ctx;
  const a = draft.accompaniment;
  const s = draft.specialist;
  const companion = a.kind === "alone" ? W().kinds.alone.title
    : `${W().kinds[a.kind].title} : ${[a.companion.name.toUpperCase(), a.companion.first_name].filter(Boolean).join(" ")}`
      + (a.companion.remote ? ` — ${W().invitedAt([a.companion.email, a.companion.mobile].filter(Boolean).join(", "))}` : ` — ${W().companionPresent.toLowerCase()}`);
  const specialist = s.mode === "directory" ? s.directory_label
    : `${T.doctor(s.manual.name, s.manual.first_name)} — ${s.manual.specialty}`;
  const when = draft.slot.now ? W().slotNow : frWhen(slotStart(draft.slot).toISOString());
  // In the bottom bar, where "Suivant" was on the other steps.
  const submit = h("button", { class: "button primary", type: "button", "data-create": "" }, W().create);
  ctx.primary = submit;
  const overlap = h("div", { class: "overlap-box", role: "alert", hidden: true });
  const create = async (confirmOverlap) => {
    submit.disabled = true;
    await ctx.settle();
    try {
      ctx.finish(await api("POST", "/dossiers", { ...request(draft), confirm_overlap: confirmOverlap }));
    } catch (error) {
      submit.disabled = false;
      ctx.changed();  // what was typed last is saved after all
      if (error.status === 401 || error.code === "session_locked") return;
      if (error.code === "slot_overlap") showOverlap(overlap, error.message, () => create(true), ctx);
      else ctx.fail(error.message);
    }
  };
  submit.addEventListener("click", () => create(false));
  return h("div", { class: "form" },
    overlap,
    sameDoctorNotice(ctx).box,
    h("p", { class: "hint" }, W().createHint),
    h("dl", { class: "summary" },
      summaryRow(W().resident, `${draft.patient.display_name}, ${frDate(draft.patient.birth_date)}`, 0, ctx),
      summaryRow(W().consent, draft.consent.given ? W().consentGiven : `${W().consentRefused} : ${draft.consent.comment}`, 2, ctx),
      summaryRow(W().accompaniment, companion, 3, ctx),
      summaryRow(W().specialist, specialist, 4, ctx),
      summaryRow(W().slot, `${when} · ${T.minutes(draft.slot.duration)}`, 5, ctx)),
    h("div", { class: "field" },
      h("label", { for: "reason" }, W().reason),
      h("input", { id: "reason", value: draft.reason, maxlength: 500, autocomplete: "off", "data-no-autofocus": "",
        oninput: (e) => { draft.reason = e.target.value; ctx.changed(); } })));
}

// One cart is in one room at a time: the other consultation named, then the nurse's choice.
function showOverlap(box, message, confirm, ctx) {
  box.replaceChildren(h("h3", {}, W().overlapTitle), h("p", {}, message),
    h("div", { class: "actions" },
      h("button", { class: "button secondary", type: "button", onclick: () => { ctx.draft.step = 5; ctx.changed(); ctx.render(); } }, W().overlapChange),
      h("button", { class: "button primary", type: "button", "data-confirm-overlap": "", onclick: () => { box.hidden = true; confirm(); } }, W().overlapConfirm)));
  box.hidden = false;
  box.scrollIntoView({ block: "nearest" });
}

export const STEPS = [
  { title: "Recherche d'identité", render: searchStep },
  { title: "Validation de l'identité", render: validationStep, validate: () => null },
  { title: "Consentement", heading: "Recueil du consentement", render: consentStep, validate: consentProblem },
  { title: "Accompagnant", heading: "Sélection du type d'accompagnement", render: accompanimentStep, validate: accompanimentProblem },
  { title: "Médecin requis", heading: "Choix du médecin requis", render: specialistStep, validate: specialistProblem },
  { title: "Créneau", heading: "Sélection du créneau d'invitation", render: slotStep, validate: slotProblem },
  { title: "Validation", heading: "Création du télédossier", render: finalStep },
];
