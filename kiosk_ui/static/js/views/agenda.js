// The cart's agenda (seed 000 §2.2: create a consultation from the agenda by tapping a free slot):
// a day or a week of the cart's teleconsultations. One agenda, the cart's: it is in one room at a
// time. Each consultation at its time and length, side by side with those it overlaps (flagged
// « chevauchement »), its room's window drawn lightly behind it, who is invited and what became
// of their invitation; today marked, "now" as a red line. A free slot, tapped, opens the creation
// wizard with that slot chosen; a consultation opens its dossier. Times are the cart's clock: the
// agent gives each one's day and minute in its zone (GET /agenda), the view only draws them.
import { api } from "../api.js";
import { h, icon, reportError } from "../dom.js";
import { T } from "../i18n.js";
import { followPulse } from "../pulse.js";

const A = () => T.agenda;
const HOUR_PX = { 1: 160, 7: 112 };  // a half-hour cell: 80 px in a day, 56 px (a finger) in a week
const CELL_MINUTES = 30;
const FIRST_HOUR = 7;
const LAST_HOUR = 21;
const NOW_TICK_MS = 30_000;

const longDay = new Intl.DateTimeFormat("fr-FR", { weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });
const shortDay = new Intl.DateTimeFormat("fr-FR", { weekday: "short", day: "numeric", timeZone: "UTC" });
const dayMonth = new Intl.DateTimeFormat("fr-FR", { day: "numeric", month: "long", timeZone: "UTC" });

// "2026-12-07" as a date at UTC midnight: calendar arithmetic without the browser's zone.
const asDate = (day) => new Date(`${day}T00:00:00Z`);
const dayIso = (date) => date.toISOString().slice(0, 10);
const addDays = (day, n) => { const d = asDate(day); d.setUTCDate(d.getUTCDate() + n); return dayIso(d); };
const mondayOf = (day) => addDays(day, -((asDate(day).getUTCDay() + 6) % 7));
const clock = (minute) => `${Math.floor(minute / 60) % 24} h ${String(((minute % 60) + 60) % 60).padStart(2, "0")}`;
const hhmm = (minute) => `${String(Math.floor(minute / 60)).padStart(2, "0")}:${String(minute % 60).padStart(2, "0")}`;

// h() with its `style` as an object, applied through the CSSOM: the kiosk's CSP refuses style attributes.
function hs(tag, { style, ...attrs }, ...children) {
  const node = h(tag, attrs, ...children);
  for (const [key, value] of Object.entries(style || {})) node.style.setProperty(key, value);
  return node;
}

// Lane `lane` of `of` across a day's column.
const lanePlace = (lane, of) => ({ left: `calc(${(lane / of) * 100}% + 4px)`, width: `calc(${100 / of}% - 8px)` });

// "#/agenda/semaine/2026-12-07" -> { days: 7, day: "2026-12-07" }; nothing: today's day.
export function agendaPlace(param) {
  const [mode, day] = (param || "").split("/");
  return { days: mode === "semaine" ? 7 : 1, day: /^\d{4}-\d{2}-\d{2}$/.test(day || "") ? day : null };
}

export function agendaView({ session, param, onOpen, onCreateAt, onMove }) {
  const perms = new Set(session.user.permissions);
  if (!perms.has("health.read")) {
    return h("div", { class: "card" }, h("div", { class: "empty" }, icon("shield"), h("p", { class: "title" }, T.noHealthAccessTitle),
      h("p", {}, T.noHealthAccessText(session.user.role_label.toLowerCase()))));
  }
  const place = agendaPlace(param);
  const canCreate = perms.has("health.write");
  const head = h("div", { class: "agenda-head card" });
  const scroller = h("div", { class: "agenda-scroll card", "data-agenda-days": String(place.days) });
  const root = h("div", { class: "agenda" }, head, scroller);
  let shown = null;
  let rooms = new Map();
  let version = null;
  let loadedAt = 0;
  let drawnKey = null;

  // Drawn again only when what it shows changes (a half-hour gone by, someone entering a room):
  // otherwise the "now" line just moves, and a finger on the screen never loses what it touches.
  const draw = (force = false) => {
    if (!shown) return;
    const nowMinute = shown.now_minute + Math.floor((Date.now() - loadedAt) / 60_000);
    const key = JSON.stringify([Math.floor((nowMinute + 5) / CELL_MINUTES), presenceKey(shown, rooms)]);
    if (!force && key === drawnKey) return moveNow(scroller, nowMinute);
    drawnKey = key;
    scroller.replaceChildren(grid(shown, { nowMinute, rooms, canCreate, onOpen, onCreateAt, onMove }));
  };
  async function load({ background = false } = {}) {
    try {
      const day = place.day && place.days === 7 ? mondayOf(place.day) : place.day;
      const query = new URLSearchParams({ days: String(place.days), ...(day ? { from: day } : {}) });
      const first = !shown;
      shown = await api("GET", `/agenda?${query}`, undefined, { background });
      loadedAt = Date.now();
      head.replaceChildren(...header(shown, place, canCreate, onMove));
      draw(true);
      if (first) scrollToStart(scroller, shown, place.days);
    } catch (error) {
      if (!background) reportError(error);
    }
  }
  followPulse(root, (pulse) => {
    rooms = new Map(pulse.rooms.filter((r) => r.dossier_id).map((r) => [r.dossier_id, r]));
    if (version !== null && pulse.version !== version) load({ background: true });
    else draw();
    version = pulse.version;
  });
  const ticking = setInterval(() => { if (!root.isConnected) clearInterval(ticking); else draw(); }, NOW_TICK_MS);
  load();
  return root;
}

// Who is in (or waiting at) the rooms of the consultations shown.
function presenceKey(data, rooms) {
  return data.items.map((i) => rooms.get(i.id)).filter(Boolean)
    .map((r) => [r.dossier_id, r.present.map((m) => m.id), r.waiting.map((m) => m.id)]);
}

function moveNow(scroller, nowMinute) {
  const drawn = scroller.querySelector(".agenda-grid");
  if (!drawn) return;
  const top = `${(nowMinute - Number(drawn.dataset.from)) * Number(drawn.dataset.px)}px`;
  for (const mark of scroller.querySelectorAll(".now-line, .now-label")) mark.style.setProperty("top", top);
  const label = scroller.querySelector(".now-label");
  if (label) label.textContent = clock(nowMinute);
}

// The days shown, previous / today / next, day or week; what a tap does, and the legend.
function header(data, place, canCreate, onMove) {
  const week = data.days === 7;
  const first = data.day_list[0];
  const last = data.day_list[data.day_list.length - 1];
  const sameMonth = first.slice(0, 7) === last.slice(0, 7);
  const title = week ? A().weekOf(sameMonth ? String(asDate(first).getUTCDate()) : dayMonth.format(asDate(first)),
    longDay.format(asDate(last)).replace(/^\S+ /, ""))
    : longDay.format(asDate(first));
  const mode = week ? "semaine" : "jour";
  const move = (n) => onMove(`${mode}/${addDays(first, n)}`);
  const navButton = (label, days, cls) => h("button", { class: `button secondary ${cls}`, type: "button", onclick: () => move(days) }, label);
  const pick = (label, target) => h("button", { class: "button secondary", type: "button", "aria-pressed": String(data.days === target),
    onclick: () => onMove(`${target === 7 ? "semaine" : "jour"}/${place.day || data.today}`) }, label);
  const isToday = !week && first === data.today;
  return [
    h("div", { class: "agenda-row" },
      h("div", { class: "agenda-title" },
        h("h1", { class: "agenda-when" }, h("span", { class: "sr-only" }, `${A().title} : `), title),
        h("p", { class: "agenda-sub" }, isToday ? h("strong", { class: "today-mark" }, A().todayMark) : null, isToday ? " · " : "",
          A().count(data.items.length))),
      h("div", { class: "agenda-tools" },
        navButton(week ? A().previousWeek : A().previousDay, week ? -7 : -1, "prev"),
        h("button", { class: "button secondary", type: "button", onclick: () => onMove(`${mode}/${data.today}`) }, A().today),
        navButton(week ? A().nextWeek : A().nextDay, week ? 7 : 1, "next"),
        h("div", { class: "agenda-modes", role: "group" }, pick(A().day, 1), pick(A().week, 7)))),
    h("div", { class: "agenda-row" },
      h("p", { class: "hint" }, canCreate ? A().lead : A().leadReadOnly),
      h("p", { class: "agenda-legend" },
        h("span", { class: "swatch room" }), A().legendRoom,
        h("span", { class: "swatch overlap" }), A().legendOverlap,
        h("span", { class: "swatch now" }), A().legendNow)),
  ];
}

// The hours drawn: 7 h to 21 h, more when a consultation (or its room) lies outside them.
function hourRange(data) {
  let from = FIRST_HOUR * 60;
  let to = LAST_HOUR * 60;
  for (const item of data.items) {
    from = Math.min(from, item.start_minute);
    to = Math.max(to, item.start_minute + item.minutes);
  }
  return { from: Math.max(0, Math.floor(from / 60) * 60), to: Math.min(24 * 60, Math.ceil(to / 60) * 60) };
}

// Today: an hour before now; another day: its first consultation, or 8 h.
function scrollToStart(scroller, data, days) {
  const { from } = hourRange(data);
  const px = HOUR_PX[days] / 60;
  const firstItem = data.items.length ? Math.min(...data.items.map((i) => i.start_minute)) : 8 * 60 + 30;
  const target = data.day_list.includes(data.today) ? data.now_minute - 60 : firstItem - 30;
  scroller.scrollTop = Math.max(0, (target - from) * px);
}

// The days side by side under a ruler of hours; in a week, each day's name opens that day.
function grid(data, ctx) {
  const range = hourRange(data);
  const px = HOUR_PX[data.days] / 60;
  const week = data.days === 7;
  const height = (range.to - range.from) * px;
  const gutter = hs("div", { class: "agenda-gutter", style: { height: `${height}px` } });
  const nowShown = data.day_list.includes(data.today) && ctx.nowMinute >= range.from && ctx.nowMinute < range.to;
  for (let m = range.from; m < range.to; m += 60) {
    if (nowShown && Math.abs(m - ctx.nowMinute) * px < 26) continue;  // under the "now" label
    gutter.append(hs("span", { class: "hour", style: { top: `${(m - range.from) * px}px` } }, clock(m)));
  }
  if (nowShown) {
    gutter.append(hs("span", { class: "now-label", style: { top: `${(ctx.nowMinute - range.from) * px}px` } }, clock(ctx.nowMinute)));
  }
  const columns = data.day_list.map((day) => dayColumn(day, data, { ...ctx, range, px, height, week }));
  return hs("div", { class: `agenda-grid ${week ? "week" : "day"}`, "data-from": range.from, "data-px": px,
    style: { "--hour": `${HOUR_PX[data.days]}px` } },
    week ? h("div", { class: "agenda-days" }, h("span", { class: "corner" }),
      data.day_list.map((day) => h("button", { class: `button day-name ${day === data.today ? "today" : ""}`, type: "button",
        "aria-current": day === data.today ? "date" : null, onclick: () => ctx.onMove(`jour/${day}`) },
      shortDay.format(asDate(day)), day === data.today ? h("span", { class: "sr-only" }, ` (${A().todayMark})`) : null))) : null,
    h("div", { class: "agenda-body" }, gutter, ...columns));
}

function dayColumn(day, data, ctx) {
  const { range, px } = ctx;
  const items = data.items.filter((i) => i.day === day);
  const top = (minute) => (Math.max(minute, range.from) - range.from) * px;
  const col = hs("div", { class: `agenda-col ${day === data.today ? "today" : ""}`, "data-day": day, style: { height: `${ctx.height}px` } });
  const pastUntil = day < data.today ? range.to : day === data.today ? ctx.nowMinute : range.from;
  if (pastUntil > range.from) col.append(hs("div", { class: "past", style: { height: `${top(Math.min(pastUntil, range.to))}px` } }));
  if (ctx.canCreate) col.append(...freeCells(day, items, data, ctx));
  const places = ctx.week ? cascadeOf(items) : laneOf(items);
  for (const item of items) {
    const across = places.get(item.id);
    if (item.room_opens_minute !== null && item.room_closes_minute !== null) {
      const opens = Math.max(item.room_opens_minute, range.from);
      const closes = Math.min(item.room_closes_minute, range.to);
      col.append(hs("div", { class: "room-window", "aria-hidden": "true", style: { top: `${top(opens)}px`, height: `${(closes - opens) * px}px`, ...across } }));
    }
  }
  for (const item of items) col.append(itemBlock(item, { ...ctx, top, across: places.get(item.id), data }));
  if (day === data.today && ctx.nowMinute >= range.from && ctx.nowMinute < range.to) {
    col.append(hs("div", { class: "now-line", role: "img", "aria-label": `${A().now} ${clock(ctx.nowMinute)}`, style: { top: `${top(ctx.nowMinute)}px` } }));
  }
  return col;
}

// Half-hours the cart is free, from now on: a tap programs a consultation then.
function freeCells(day, items, data, ctx) {
  const { range, px } = ctx;
  const holding = items.filter((i) => i.state === "scheduled" || i.state === "in_progress");
  const cells = [];
  for (let m = range.from; m + CELL_MINUTES <= range.to; m += CELL_MINUTES) {
    if (day < data.today || (day === data.today && m < ctx.nowMinute - 5)) continue;
    if (holding.some((i) => i.start_minute < m + CELL_MINUTES && m < i.start_minute + i.minutes)) continue;
    const label = A().freeSlot(`${longDay.format(asDate(day))} à ${clock(m)}`);
    cells.push(hs("button", { class: "free-slot", type: "button", "data-slot": `${day}T${hhmm(m)}`, "aria-label": label,
      style: { top: `${(m - range.from) * px}px`, height: `${CELL_MINUTES * px}px` }, onclick: () => ctx.onCreateAt(day, hhmm(m)) },
    icon("plus")));
  }
  return cells;
}

// Side by side: consultations whose blocks would cover one another share the column's width.
function laneOf(items) {
  const shownEnd = (i) => i.start_minute + Math.max(i.minutes, CELL_MINUTES);
  const placed = new Map();
  let cluster = [];
  let clusterEnd = -1;
  const close = () => { const of = Math.max(...cluster.map((id) => placed.get(id).lane)) + 1; for (const id of cluster) placed.get(id).of = of; };
  const sorted = [...items].sort((a, b) => a.start_minute - b.start_minute);
  const laneEnds = [];
  for (const item of sorted) {
    if (item.start_minute >= clusterEnd && cluster.length) { close(); cluster = []; laneEnds.length = 0; }
    let lane = laneEnds.findIndex((end) => end <= item.start_minute);
    if (lane < 0) lane = laneEnds.length;
    laneEnds[lane] = shownEnd(item);
    placed.set(item.id, { lane, of: 1 });
    cluster.push(item.id);
    clusterEnd = Math.max(clusterEnd, shownEnd(item));
  }
  if (cluster.length) close();
  return new Map([...placed].map(([id, { lane, of }]) => [id, lanePlace(lane, of)]));
}

// In a week's narrow column, side by side would leave each a few letters: a consultation that
// starts half an hour or more after one it overlaps is drawn over it, shifted right, so both
// names show; those starting together still share the width.
function cascadeOf(items) {
  const shownEnd = (i) => i.start_minute + Math.max(i.minutes, CELL_MINUTES);
  const sorted = [...items].sort((a, b) => a.start_minute - b.start_minute);
  const groups = [];  // { start, shift, members }
  let clusterEnd = -1;
  let shift = 0;
  for (const item of sorted) {
    const last = groups[groups.length - 1];
    if (item.start_minute >= clusterEnd) shift = 0;
    else if (item.start_minute >= last.start + CELL_MINUTES) shift += 1;
    if (last && item.start_minute < clusterEnd && item.start_minute < last.start + CELL_MINUTES) last.members.push(item);
    else groups.push({ start: item.start_minute, shift, members: [item] });
    clusterEnd = Math.max(item.start_minute >= clusterEnd ? -1 : clusterEnd, shownEnd(item));
  }
  const placed = new Map();
  for (const { shift: g, members } of groups) {
    members.forEach((item, i) => placed.set(item.id, {
      left: `calc(${g * 28}px + ${i} * (100% - ${g * 28}px) / ${members.length} + 3px)`,
      width: `calc((100% - ${g * 28}px) / ${members.length} - 6px)` }));
  }
  return placed;
}

function itemBlock(item, ctx) {
  const overlap = item.overlaps.length > 0;
  const unreached = item.invitees.some((p) => !p.revoked && p.delivery === "failed" && !p.opened_link);
  const when = A().from(clock(item.start_minute), clock(item.start_minute + item.minutes));
  const room = ctx.rooms.get(item.id);
  const lines = ctx.week
    ? [h("p", { class: "line" }, h("strong", { class: "who" }, item.resident)),
      h("p", { class: "line" }, overlap ? h("span", { class: "flag" }, "⚠") : null, unreached ? h("span", { class: "flag" }, "✕") : null,
        h("span", { class: "time" }, clock(item.start_minute)))]
    : [h("p", { class: "line" }, h("span", { class: "time" }, when), h("strong", { class: "who" }, item.resident),
      overlap ? h("span", { class: "flag" }, `⚠ ${A().overlap}`) : null),
    h("p", { class: "line" }, h("span", { class: `badge state-${item.state}` }, item.state_label),
      h("span", { class: "doc" }, T.withSpecialist(item.specialist, item.specialty) || T.noSpecialist))];
  const invitees = item.invitees.filter((p) => p.delivery !== "none" || p.revoked);
  return hs("div", { class: `agenda-item state-${item.state} ${overlap ? "overlap" : ""} ${unreached ? "unreached" : ""}`, role: "button",
    tabindex: "0", "data-agenda-item": item.id,
    "aria-label": [when, item.resident, item.state_label, overlap ? A().overlap : null, ...invitees.map((p) => inviteeText(p, room))]
      .filter(Boolean).join(", "),
    style: { top: `${ctx.top(item.start_minute)}px`, height: `${Math.max(item.minutes, CELL_MINUTES) * ctx.px}px`, ...ctx.across },
    onclick: () => ctx.onOpen(item.id), onkeydown: (e) => { if (e.key === "Enter") ctx.onOpen(item.id); } },
  ...lines,
  ctx.week ? null : h("ul", { class: "invitees" }, invitees.map((p) => h("li", { class: `invitee ${inviteeStatus(p, room)}`,
    "data-invitee": p.participant_id, "data-status": inviteeStatus(p, room) }, inviteeText(p, room)))));
}

// What the nurse can know of an invitee: the message, the link, the room (nobody "accepts" here).
function inviteeStatus(person, room) {
  const member = `p${person.participant_id}`;
  if (person.revoked) return "revoked";
  if (room && room.present.some((m) => m.id === member)) return "inRoom";
  if (room && room.waiting.some((m) => m.id === member)) return "waiting";
  if (person.entered_room) return "entered";
  if (person.read_dossier) return "readDossier";
  if (person.opened_link) return "opened";
  if (person.delivery === "failed") return "failed";
  if (person.delivery === "pending") return "pending";
  return "sent";
}

function inviteeText(person, room) {
  const status = inviteeStatus(person, room);
  const why = status === "failed" ? [...new Set(person.channels.map((c) => c.last_error).filter(Boolean))].join(", ") : "";
  return `${person.name} : ${A().invitee[status]}${why ? ` (${why})` : ""}`;
}
