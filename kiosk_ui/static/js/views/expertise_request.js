// A téléexpertise asked from a resident's page (POST /expertises; agent/api/routes/expertise.py):
// an expert's opinion in writing, without a call, by a deadline the nurse chooses. One screen: the
// resident's consent, the expert (from the directory, or typed), the reason, the question and the
// photos from the exam camera. A photo is a JPEG the agent hands back without saving it (POST
// /cameras/snapshot); the page keeps it until the request is sent, then uploads it as a document of
// kind « photo » of the new dossier. The documents and the vitals are added next, on its page.
import { api, apiBlob } from "../api.js";
import { h, reportError, toast } from "../dom.js";
import { T, frTime } from "../i18n.js";
import { cameraPreview, cameraSwitch } from "./exam_camera.js";

const E = () => T.expertise;
const P = () => T.expertise.photos;

function field(label, attrs, tag = "input") {
  const id = `expertise-${attrs.name}`;
  return h("div", { class: "field" }, h("label", { for: id }, label), h(tag, { id, ...attrs }));
}

function choice(name, value, label, checked) {
  return h("label", { class: "option-line" }, h("input", { type: "radio", name, value, checked }), h("span", {}, label));
}

// The expert: one of the directory's professionals, else typed by hand.
function expertChoice() {
  const experts = h("select", { id: "expertise-directory", name: "directory_id" }, h("option", { value: "" }, E().typeExpert));
  const text = (name, label, attrs = {}) => field(label, { name, autocomplete: "off", ...attrs });
  const manual = h("div", { class: "manual-expert" },
    h("div", { class: "form-row" }, text("name", E().name), text("first_name", E().firstName)),
    h("div", { class: "form-row" }, text("specialty", E().specialty), text("rpps", E().rpps, { inputmode: "numeric", maxlength: 11 })),
    h("div", { class: "form-row" }, text("email", E().email, { type: "email" }), text("mobile", E().mobile, { type: "tel" })));
  experts.addEventListener("change", () => { manual.hidden = Boolean(experts.value); });
  api("GET", "/directory").then(({ items }) => {
    for (const p of items) experts.append(h("option", { value: String(p.id) }, `${p.display_name} — ${p.specialty}`));
  }).catch(reportError);
  return { experts, el: [h("div", { class: "field" }, h("label", { for: "expertise-directory" }, E().expert), experts), manual] };
}

function consentChoice() {
  const refusal = field(E().consentWhyNot, { name: "consent_comment", autocomplete: "off" });
  refusal.hidden = true;
  const consent = h("fieldset", { class: "choices" }, h("legend", {}, E().consent),
    choice("consent", "yes", E().consentGiven, true), choice("consent", "no", E().consentRefused, false));
  consent.addEventListener("change", () => { refusal.hidden = consent.querySelector("input:checked").value === "yes"; });
  return [consent, refusal];
}

// « Photos »: the active camera's preview, its switch, « Prendre une photo », and the photos taken
// as thumbnails with « Retirer ». `photos()` lists them ({ blob, url, name }) for the sending.
function photosSection() {
  const photos = [];
  const list = h("ul", { class: "photo-tray" });
  const count = h("p", { class: "hint photo-count", "aria-live": "polite" });
  const show = () => {
    count.textContent = photos.length ? P().count(photos.length) : P().none;
    list.replaceChildren(...photos.map((photo, i) => h("li", { class: "photo-thumb" },
      h("img", { src: photo.url, alt: P().alt(i + 1) }),
      h("button", { class: "button secondary", type: "button", onclick: () => {
        photos.splice(photos.indexOf(photo), 1);
        URL.revokeObjectURL(photo.url);
        show();
        toast(P().removed);
      } }, P().remove))));
  };
  const cameras = cameraSwitch({ active: null, cameras: [], notice: null });
  api("GET", "/cameras").then(cameras.render).catch(reportError);
  const take = h("button", { id: "take-photo", class: "button primary", type: "button", onclick: async () => {
    take.disabled = true;
    take.textContent = P().taking;
    try {
      const blob = await apiBlob("POST", "/cameras/snapshot");
      const state = await api("GET", "/cameras");  // the camera it came from, fallen back to by itself or not
      cameras.render(state);
      const camera = state.cameras.find((c) => c.id === state.active);
      photos.push({ blob, url: URL.createObjectURL(blob), name: P().name(camera ? camera.label : "", frTime(new Date())) });
      show();
    } catch (error) { reportError(error); } finally { take.disabled = false; take.textContent = P().take; }
  } }, P().take);
  show();
  const el = h("fieldset", { class: "photos" }, h("legend", {}, P().title), h("p", { class: "hint" }, P().lead),
    h("div", { class: "photo-camera" }, cameraPreview({ cls: "preview", alt: P().preview }),
      h("div", { class: "photo-controls" }, cameras.el, cameras.notice, take)),
    count, list);
  return { el, photos: () => [...photos] };
}

// Each photo into the new dossier as a document « photo », through the dossier page's own upload.
// Returns the refusals: the dossier exists whatever happens here.
async function uploadPhotos(dossierId, photos, progress) {
  const failed = [];
  for (const [i, photo] of photos.entries()) {
    progress(T.expertise.sendingPhotos(i + 1, photos.length));
    const form = new FormData();
    form.append("file", photo.blob, `${photo.name}.jpg`);
    form.append("kind", "photo");
    try {
      await api("POST", `/dossiers/${encodeURIComponent(dossierId)}/documents`, form);
    } catch (failure) {
      failed.push(failure);
    }
  }
  return failed;
}

function requestOf(form, patientId, experts) {
  const data = Object.fromEntries(new FormData(form));
  const given = data.consent === "yes";
  const specialist = experts.value ? { directory_id: Number(experts.value) }
    : Object.fromEntries(["name", "first_name", "specialty", "rpps", "email", "mobile"].filter((k) => data[k]).map((k) => [k, data[k].trim()]));
  return {
    patient_id: patientId, consent: given ? { given: true } : { given: false, comment: data.consent_comment || "" },
    specialist, reason: data.reason || "", question: data.question || "", deadline_hours: Number(data.deadline_hours),
  };
}

export function expertiseView({ patientId, onCreated, onCancel }) {
  const error = h("div", { class: "alert", role: "alert", hidden: true });
  const expert = expertChoice();
  const photos = photosSection();
  const submit = h("button", { class: "button primary", type: "submit" }, E().send);
  const form = h("form", { class: "form card expertise-form", novalidate: true },
    h("h1", {}, E().title),
    h("p", { class: "hint" }, E().lead),
    ...consentChoice(), ...expert.el,
    field(E().reason, { name: "reason", required: true, placeholder: E().reasonExample, autocomplete: "off" }),
    field(E().question, { name: "question", required: true, rows: 4 }, "textarea"),
    photos.el,
    h("fieldset", { class: "choices delays" }, h("legend", {}, E().deadline),
      E().delays.map(([hours, label]) => choice("deadline_hours", String(hours), label, hours === 48))),
    error,
    h("div", { class: "actions-row" },
      h("button", { class: "button secondary", type: "button", onclick: onCancel }, E().cancel), submit));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    submit.textContent = E().sending;
    let made;
    try {
      made = await api("POST", "/expertises", requestOf(form, patientId, expert.experts));
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
      submit.disabled = false;
      submit.textContent = E().send;
      return;
    }
    const taken = photos.photos();
    const failed = await uploadPhotos(made.id, taken, (text) => { submit.textContent = text; });
    if (failed.length) toast(E().photosNotAdded(failed.length, failed[0].message), "error");
    else toast(E().sent(taken.length));
    onCreated(made);
  });
  return h("div", { class: "expertise-page" }, form);
}
