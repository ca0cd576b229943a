// The technician's page beyond the network and the devices (agent/api/routes/technician_settings.py):
// the cart's clock, the settings kept beside its database (the regional server's address, the
// EHPAD's web proxy) and the sound test. A saved setting applies when the agent starts: under
// systemd it restarts at once, and the page waits for it to answer again.
import { h, toast } from "/static/js/dom.js";
import { alertBox, call, field, say } from "/static/technician/desk.js";

async function backAfterRestart(saved, what) {
  if (saved.restart_by_hand) return toast(`${what} enregistré. Redémarrez l'agent du chariot pour l'appliquer.`);
  if (!saved.restarting) return toast(`${what} enregistré.`);
  toast(`${what} enregistré : l'agent redémarre pour l'appliquer (quelques secondes).`);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  for (let tries = 0; tries < 40; tries++) {
    try {
      await call("GET", "/tech/session");
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 750));
    }
  }
}

function pendingNote(pending) {
  return pending ? h("div", { class: "alert warning", role: "status" },
    "Un réglage enregistré attend le redémarrage de l'agent du chariot pour s'appliquer.") : null;
}

// --- the clock (systemd-timedated) ----------------------------------------------------------------

export async function clockTab(reshow) {
  const clock = await call("GET", "/tech/clock");
  const now = new Intl.DateTimeFormat("fr-FR", { dateStyle: "full", timeStyle: "medium", timeZone: clock.timezone }).format(new Date(clock.now));
  const sync = !clock.ntp ? ["l'heure est celle réglée à la main", "warn"]
    : clock.synchronized ? ["synchronisée : l'heure est juste", ""] : ["pas encore synchronisée (le chariot atteint-il Internet ?)", "warn"];
  const facts = h("div", { class: "figures" },
    h("div", { class: "figure" }, h("div", { class: "what" }, "Heure du chariot"), h("div", { class: "value clock-now" }, now),
      h("div", { class: "more" }, `Fuseau horaire : ${clock.timezone}`)),
    h("div", { class: `figure ${sync[1]}` }, h("div", { class: "what" }, "Heure réseau (NTP)"), h("div", { class: "value" }, clock.ntp ? "active" : "coupée"),
      h("div", { class: "more" }, sync[0])));
  const zoneError = alertBox();
  const french = clock.zones.filter((z) => z.label !== z.name), others = clock.zones.filter((z) => z.label === z.name);
  const option = (z) => h("option", { value: z.name, selected: z.name === clock.timezone }, z.label);
  const select = h("select", { id: "f-timezone", name: "timezone" }, h("optgroup", { label: "France" }, french.map(option)),
    h("optgroup", { label: "Autres fuseaux" }, others.map(option)));
  const zoneForm = h("form", { class: "form", novalidate: true },
    h("div", { class: "field" }, h("label", { for: "f-timezone" }, "Fuseau horaire"), select), zoneError,
    h("button", { class: "button primary", type: "submit" }, "Enregistrer le fuseau horaire"));
  zoneForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const saved = await call("PUT", "/tech/clock/timezone", { timezone: select.value });
      await backAfterRestart(saved, "Fuseau horaire");
      reshow();
    } catch (failure) {
      say(zoneError, failure);
    }
  });
  const ntp = h("button", { class: "button secondary", type: "button", onclick: async () => {
    try {
      await call("PUT", "/tech/clock/ntp", { on: !clock.ntp });
      reshow();
    } catch (failure) {
      toast(failure.message);
    }
  } }, clock.ntp ? "Couper l'heure réseau" : "Activer l'heure réseau");
  const sections = [h("section", {}, h("h2", {}, "Heure"), facts),
    h("section", { class: "card" }, h("h2", {}, "Fuseau horaire"),
      h("p", { class: "hint" }, "L'horloge de l'écran, les invitations et les comptes rendus suivent ce fuseau. ",
        `Dates écrites par l'agent : ${clock.dates_timezone}.`), zoneForm, pendingNote(clock.restart_pending)),
    h("section", { class: "card" }, h("h2", {}, "Heure réseau"),
      h("p", { class: "hint" }, "Gardez-la active : les codes de connexion, les certificats et la piste d'audit dépendent d'une heure juste. ",
        "Coupez-la seulement si le chariot n'atteint jamais Internet, puis réglez l'heure à la main."), ntp)];
  if (!clock.ntp) sections.push(manualTime(reshow));
  return sections;
}

function manualTime(reshow) {
  const error = alertBox();
  const form = h("form", { class: "form card", novalidate: true }, h("h2", {}, "Régler l'heure à la main"),
    field("Date et heure (celles de votre téléphone ou ordinateur)", { name: "at", type: "datetime-local", step: 1, required: true }), error,
    h("button", { class: "button primary", type: "submit" }, "Régler l'heure du chariot"));
  const pad = (n) => String(n).padStart(2, "0"), d = new Date();
  form.at.value = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!form.at.value) return say(error, new Error("Indiquez la date et l'heure."));
    try {
      await call("PUT", "/tech/clock/time", { at: new Date(form.at.value).toISOString() });
      toast("Heure du chariot réglée.");
      reshow();
    } catch (failure) {
      say(error, failure);
    }
  });
  return form;
}

// --- settings kept beside the database --------------------------------------------------------------

function settingsForm(title, hint, fields, what, reshow) {
  const error = alertBox();
  const form = h("form", { class: "form card settings", novalidate: true }, h("h2", {}, title), h("p", { class: "hint" }, hint),
    ...fields, error, h("button", { class: "button primary", type: "submit" }, "Enregistrer"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const saved = await call("PUT", "/tech/settings", Object.fromEntries(new FormData(form)));
      await backAfterRestart(saved, what);
      reshow();
    } catch (failure) {
      say(error, failure);
    }
  });
  return form;
}

export async function regionSettingsCard(reshow) {
  const settings = await call("GET", "/tech/settings");
  return settingsForm("Adresse du serveur régional",
    "Donnée par la région avec l'enrôlement. Vide : rien n'est envoyé, tout reste sur le chariot jusqu'à ce qu'elle soit donnée.",
    [field("Adresse FHIR du serveur régional", { name: "fhir_base_url", type: "url", value: settings.fhir_base_url, placeholder: "https://telesante.exemple/fhir" }),
     field("Adresse d'envoi des gros fichiers (facultative)", { name: "upload_url", type: "url", value: settings.upload_url, placeholder: "https://telesante.exemple/files/" }),
     pendingNote(settings.restart_pending)], "Serveur régional", reshow);
}

export async function proxyCard(reshow) {
  const settings = await call("GET", "/tech/settings");
  return settingsForm("Proxy de l'établissement",
    "Si le réseau de l'EHPAD ne sort sur Internet que par un proxy web : l'agent passe par lui pour le serveur régional, les SMS et Pro Santé Connect. Vide : accès direct.",
    [field("Adresse du proxy", { name: "http_proxy", type: "url", value: settings.http_proxy, placeholder: "http://proxy.ehpad.local:3128" }),
     pendingNote(settings.restart_pending)], "Proxy", reshow);
}

// --- sound: the speaker and the microphone (drivers/audio/sound_check.py) ------------------------------

export async function soundTab() {
  const result = h("div", { class: "sound-result", "aria-live": "polite" });
  const test = h("button", { class: "button primary", type: "button", onclick: async () => {
    test.disabled = true;
    result.replaceChildren(h("p", {}, "Le chariot joue des bips et écoute son micro…"));
    try {
      const { check: heard } = await call("POST", "/tech/sound-test");
      result.replaceChildren(h("div", { class: `alert ${heard.ok ? "success" : "warning"}`, role: "status" }, heard.verdict),
        h("div", { class: "figures" },
          h("div", { class: "figure" }, h("div", { class: "what" }, "Haut-parleur"), h("div", { class: "value" }, heard.played ? "a joué" : "muet"),
            heard.playback_error ? h("div", { class: "more" }, heard.playback_error) : null),
          h("div", { class: `figure ${heard.silent ? "bad" : ""}` }, h("div", { class: "what" }, "Micro"),
            h("div", { class: "value" }, heard.peak_dbfs === null ? "—" : `${Math.round(heard.peak_dbfs)} dB`),
            h("div", { class: "more" }, heard.silent ? "n'entend rien" : heard.tone_heard ? "entend le haut-parleur" : "n'entend pas les bips"))));
    } catch (failure) {
      result.replaceChildren(h("div", { class: "alert error", role: "alert" }, failure.message));
    } finally {
      test.disabled = false;
    }
  } }, "Tester le haut-parleur et le micro");
  return [h("section", { class: "card" }, h("h2", {}, "Son"),
    h("p", { class: "hint" }, "Le chariot joue quelques bips sur son haut-parleur et vérifie que son micro les entend : ",
      "montez le volume et éloignez le micro de tout bruit. Impossible pendant un appel."), test, result)];
}

// --- the printer (agent/printing/): which CUPS queue the nurse's prints go to -------------------------

export async function printerTab(reshow) {
  let found;
  try {
    found = await call("GET", "/printers");
  } catch (failure) {
    if (failure.status !== 503 && failure.status !== 409) throw failure;
    return [h("section", { class: "card" }, h("h2", {}, "Imprimante"), h("div", { class: "alert error", role: "alert" }, failure.message))];
  }
  const choose = async (name) => {
    try {
      await call("PUT", "/tech/printer", { printer: name });
      toast(name ? `Les impressions iront à « ${name} ».` : "Les impressions iront à l'imprimante par défaut du service d'impression.");
      reshow();
    } catch (failure) {
      toast(failure.message);
    }
  };
  const rows = found.printers.map((p) => h("tr", {},
    h("td", {}, h("strong", {}, p.info || p.name), h("div", { class: "hint mono" }, p.name), p.location ? h("div", { class: "hint" }, p.location) : null),
    h("td", { class: ["ready", "printing"].includes(p.state) && p.accepting ? "" : "warn" }, p.label, p.message ? h("div", { class: "hint" }, p.message) : null),
    h("td", {}, p.is_default ? "par défaut" : ""),
    h("td", {}, p.is_chosen ? h("span", { class: "chosen" }, "utilisée par le chariot")
      : h("button", { class: "button secondary", type: "button", onclick: () => choose(p.name) }, "Utiliser celle-ci"))));
  return [h("section", {}, h("h2", {}, "Imprimante"),
    h("p", { class: "hint" }, `Service d'impression : ${found.server || "celui du système"}. Les soignants impriment ordonnances et comptes rendus depuis le télédossier.`),
    found.printers.length
      ? h("table", { class: "items printers" }, h("thead", {}, h("tr", {}, ["Imprimante", "État", "", ""].map((t) => h("th", {}, t)))), h("tbody", {}, rows))
      : h("div", { class: "alert warning", role: "status" }, "Aucune imprimante n'est installée sur le service d'impression."),
    found.chosen ? h("button", { class: "button secondary", type: "button", onclick: () => choose("") }, "Revenir à l'imprimante par défaut") : null)];
}
