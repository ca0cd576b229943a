// The technician's page on the EHPAD's network (agent/api/routes/technician.py): the first-boot
// account made with the code the cart's screen shows, the technician's login, then the cart's
// state, its queue to the regional server, its enrolment there and the support bundle. Nothing of
// a resident is ever asked for or shown here. The clock, the cart's settings and the sound test
// are in settings.js.
import { h, toast } from "/static/js/dom.js";
import { alertBox, call, field, say, setCsrf, stamp } from "/static/technician/desk.js";
import { clockTab, printerTab, proxyCard, regionSettingsCard, soundTab } from "/static/technician/settings.js";

const main = document.getElementById("technician");
const who = document.getElementById("who");
let refreshing = null;

const size = (bytes) => (bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} Go` : `${Math.round(bytes / 1e6)} Mo`).replace(".", ",");
function duration(seconds) {
  const d = Math.floor(seconds / 86400), hours = Math.floor((seconds % 86400) / 3600), m = Math.floor((seconds % 3600) / 60);
  return d ? `${d} j ${hours} h` : hours ? `${hours} h ${m} min` : `${m} min`;
}

// --- the way in ---------------------------------------------------------------------------------

function firstBootForm(state) {
  const error = alertBox();
  const form = h("form", { class: "form card technician-gate", novalidate: true },
    h("h2", {}, "Mise en service du chariot"),
    h("p", { class: "hint" }, "Ce chariot n'a pas encore de compte technicien. Recopiez le code affiché sur son écran, puis créez votre compte : ",
      "vous vous connecterez ensuite avec votre mot de passe et le code de votre application d'authentification."),
    field("Code affiché sur l'écran du chariot", { name: "code", autocomplete: "off", required: true, class: "code", placeholder: "ABCD-EFGH" }),
    field("Identifiant", { name: "login", autocomplete: "username", required: true, placeholder: "prenom.nom" }),
    field("Nom affiché", { name: "display_name", autocomplete: "name", required: true }),
    field("Mot de passe (10 caractères au moins)", { name: "password", type: "password", autocomplete: "new-password", required: true }),
    field("Mot de passe, encore", { name: "again", type: "password", autocomplete: "new-password", required: true }),
    error,
    h("button", { class: "button primary", type: "submit" }, "Créer mon compte technicien"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    if (data.password !== data.again) return say(error, new Error("Les deux mots de passe diffèrent."));
    delete data.again;
    try {
      const made = await call("POST", "/tech/first-account", data);
      showEnrolment(made);
    } catch (failure) {
      say(error, failure);
    }
  });
  return form;
}

function showEnrolment(made) {
  main.replaceChildren(h("section", { class: "card technician-gate" },
    h("h2", {}, "Compte créé : une dernière étape"),
    h("p", {}, `Scannez ce code avec votre application d'authentification (FreeOTP, Google Authenticator…) pour le compte « ${made.login} ».`),
    h("div", { class: "enrolled" },
      h("img", { src: made.qr_data_uri, alt: "Code QR à scanner avec l'application d'authentification" }),
      h("p", {}, "Sans appareil photo, saisissez la clé : ", h("strong", { class: "mono" }, made.secret.replace(/(.{4})/g, "$1 ").trim()))),
    h("p", { class: "hint" }, "Le code de mise en service ne sert plus : l'écran du chariot ne l'affiche plus."),
    h("button", { class: "button primary", type: "button", onclick: () => showLogin() }, "J'ai enregistré le code : me connecter")));
}

function loginForm() {
  const error = alertBox();
  const form = h("form", { class: "form card technician-gate", novalidate: true },
    h("h2", {}, "Connexion technicien"),
    field("Identifiant", { name: "login", autocomplete: "username", required: true }),
    field("Mot de passe", { name: "password", type: "password", autocomplete: "current-password", required: true }),
    field("Code à usage unique", { name: "otp", inputmode: "numeric", autocomplete: "one-time-code", required: true, class: "code", maxlength: 8 }),
    error,
    h("button", { class: "button primary", type: "submit" }, "Se connecter"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const session = await call("POST", "/tech/session", Object.fromEntries(new FormData(form)));
      openDesk(session);
    } catch (failure) {
      say(error, failure);
    }
  });
  return form;
}

async function showLogin() {
  const state = await call("GET", "/tech/state");
  document.getElementById("cart-name").textContent = state.cart_name;
  document.getElementById("fingerprint").textContent =
    `Empreinte du certificat (SHA-256), à comparer avec l'écran du chariot : ${state.fingerprint}`;
  who.replaceChildren();
  main.replaceChildren(state.provisioning ? firstBootForm(state) : loginForm());
}

// --- the desk -----------------------------------------------------------------------------------

const TABS = [["etat", "État du chariot"], ["reseau", "Réseau"], ["capteurs", "Capteurs"], ["cameras", "Caméras"], ["son", "Son"], ["imprimante", "Imprimante"], ["heure", "Heure"],
              ["envoi", "Envoi au serveur régional"], ["region", "Enrôlement régional"], ["comptes", "Comptes"], ["maj", "Mises à jour"], ["support", "Support"]];

function openDesk(session) {
  setCsrf(session.csrf_token);
  who.replaceChildren(h("span", {}, `${session.user.display_name} (technicien·ne)`),
    h("button", { class: "button ghost", type: "button", onclick: logout }, "Se déconnecter"));
  show("etat");
}

async function logout() {
  clearInterval(refreshing);
  await call("DELETE", "/tech/session").catch(() => null);
  setCsrf(null);
  showLogin();
}

async function show(tab) {
  clearInterval(refreshing);
  const nav = h("nav", { class: "tabs", "aria-label": "Rubriques" },
    TABS.map(([id, label]) => h("button", { class: "button secondary", type: "button", "aria-current": id === tab ? "page" : false,
                                            onclick: () => show(id) }, label)));
  const body = h("div", { class: "tab-body" }, h("p", {}, "Chargement…"));
  main.replaceChildren(nav, body);
  const render = { etat: stateTab, reseau: networkTab, capteurs: sensorsTab, cameras: camerasTab, son: soundTab, imprimante: () => printerTab(() => show("imprimante")), heure: () => clockTab(() => show("heure")),
                   envoi: queueTab, region: regionTab, comptes: accountsTab, maj: updatesTab, support: supportTab }[tab];
  const draw = async () => {
    try {
      body.replaceChildren(...await render());
    } catch (failure) {
      if (failure.status === 401) return showLogin();
      body.replaceChildren(h("div", { class: "alert error", role: "alert" }, failure.message));
    }
  };
  await draw();
  if (tab === "etat" || tab === "envoi" || tab === "capteurs") refreshing = setInterval(draw, 5000);
}

function meter(what, percent) {
  const bar = h("span");
  bar.style.width = `${Math.min(100, percent)}%`;  // through the CSSOM: the page's CSP refuses style attributes
  return h("div", { class: "meter", role: "meter", "aria-valuenow": Math.round(percent), "aria-valuemin": 0, "aria-valuemax": 100,
                    "aria-label": what }, bar);
}

function figure(what, value, more, percent, level = "") {
  return h("div", { class: `figure ${level}` }, h("div", { class: "what" }, what), h("div", { class: "value" }, value),
    percent === undefined ? null : meter(what, percent), more ? h("div", { class: "more" }, more) : null);
}

const levelOf = (percent, warn, bad) => (percent >= bad ? "bad" : percent >= warn ? "warn" : "");

async function stateTab() {
  const { system, sync, call: stats } = await call("GET", "/tech/diagnostics");
  const hottest = system.temperatures[0];
  const figures = [
    figure("Processeur", `${system.cpu.percent} %`, `${system.cpu.cores} cœurs · charge ${system.cpu.load.join(" / ")}`, system.cpu.percent,
           levelOf(system.cpu.percent, 70, 90)),
    figure("Mémoire", `${system.memory.percent} %`, `${size(system.memory.available_bytes)} libres sur ${size(system.memory.total_bytes)}`,
           system.memory.percent, levelOf(system.memory.percent, 80, 92)),
    figure("Disque des données", `${system.disk.percent} %`, `${size(system.disk.free_bytes)} libres sur ${size(system.disk.total_bytes)}`,
           system.disk.percent, levelOf(system.disk.percent, 80, 92)),
    figure("Chiffrement des données", system.disk.encryption.encrypted ? `oui (${system.disk.encryption.scheme})` : "NON",
           system.disk.encryption.encrypted ? "partition chiffrée, ouverte par la puce TPM du chariot"
             : "les données de santé sont en clair sur le disque : chariot à réinstaller avec l'image Telecart", undefined,
           system.disk.encryption.encrypted ? "" : "bad"),
    figure("Température", hottest ? `${hottest.celsius} °C` : "non mesurée", hottest ? hottest.sensor : "le matériel ne la donne pas", undefined,
           hottest && hottest.high && hottest.celsius >= hottest.high ? "bad" : ""),
    figure("Batterie", system.battery ? `${system.battery.percent} %` : "sur secteur",
           system.battery ? (system.battery.plugged ? "branchée" : `sur batterie${system.battery.seconds_left ? `, ${duration(system.battery.seconds_left)} restantes` : ""}`)
             : "pas de batterie détectée", system.battery?.percent, system.battery && !system.battery.plugged ? levelOf(100 - system.battery.percent, 70, 85) : ""),
    figure("Envoi au serveur régional", `${sync.pending} en attente`, sync.error || (sync.server ? "rien à signaler" : "aucun serveur régional configuré"),
           undefined, sync.problems.length ? "bad" : sync.error ? "warn" : ""),
    figure("Agent", `version ${system.agent.version}`, `démarré il y a ${duration(system.agent.uptime_seconds)} · ${size(system.agent.memory_bytes)} · ${system.agent.threads} fils`),
    figure("Système", system.hostname, `démarré il y a ${duration(system.system_uptime_seconds)}`),
    figure("Appel", stats.in_call ? `en cours, ${stats.participants.length} participant(s)` : "aucun appel en cours",
           `caméra active : ${stats.camera?.cameras?.find((c) => c.id === stats.camera.active)?.label || "aucune"}`),
  ];
  const addresses = system.addresses.length
    ? h("table", { class: "items" }, h("thead", {}, h("tr", {}, h("th", {}, "Interface"), h("th", {}, "Adresse"))),
        h("tbody", {}, system.addresses.map((a) => h("tr", {}, h("td", {}, a.interface), h("td", { class: "mono" }, a.address)))))
    : h("p", { class: "hint" }, "Aucune adresse réseau hors de la boucle locale.");
  return [h("section", {}, h("h2", {}, "État du chariot"), h("div", { class: "figures" }, figures)),
          h("section", {}, h("h2", {}, "Réseau"), addresses)];
}

function itemsTable(items, empty) {
  if (!items.length) return h("p", { class: "hint" }, empty);
  return h("table", { class: "items" },
    h("thead", {}, h("tr", {}, ["N°", "Élément", "Télédossier", "Depuis", "État", "Essais", "Dernière erreur"].map((t) => h("th", {}, t)))),
    h("tbody", {}, items.map((i) => h("tr", {}, h("td", {}, i.id), h("td", {}, `${i.label} (${i.operation_label})`), h("td", { class: "mono" }, i.dossier || "—"),
      h("td", {}, stamp(i.at)), h("td", {}, i.state_label), h("td", {}, i.attempts), h("td", {}, i.last_error || "—")))));
}

async function queueTab() {
  const { sync } = await call("GET", "/tech/diagnostics");
  const counts = [["sent", "envoyés"], ["conflict", "en conflit"], ["refused", "refusés"], ["local", "gardés sur le chariot"]]
    .map(([k, label]) => `${sync.counts[k] || 0} ${label}`).join(" · ");
  return [
    h("section", { class: "card" }, h("h2", {}, "Envoi au serveur régional"),
      h("p", {}, sync.server ? `Serveur : ${sync.server}` : "Aucun serveur régional configuré : tout reste sur le chariot."),
      h("p", {}, `Authentification : ${sync.authentication}`),
      h("p", {}, `${sync.pending} élément(s) en attente${sync.oldest ? `, le plus ancien du ${stamp(sync.oldest)}` : ""} · ${counts}`),
      sync.error ? h("div", { class: "alert warning", role: "status" }, `Dernière erreur : ${sync.error}${sync.next_try_at ? ` (prochain essai ${stamp(sync.next_try_at)})` : ""}`) : null),
    h("section", {}, h("h2", {}, "À voir par une personne"), itemsTable(sync.problems, "Aucun conflit ni refus.")),
    h("section", {}, h("h2", {}, "En attente d'envoi"), itemsTable(sync.waiting, "Rien n'attend.")),
  ];
}

async function regionTab() {
  const enrolment = await call("GET", "/tech/enrolment");
  const rows = [["Serveur FHIR régional", enrolment.fhir_base_url || "non configuré"], ["Authentification", enrolment.auth],
                ["Identifiant client du chariot", enrolment.client_id], ["Base des identifiants", enrolment.identifier_base || "par défaut (urn:telecart:cart:…)"]];
  const key = enrolment.jwks
    ? [h("p", {}, "Clé publique du chariot (JWKS) à transmettre à la région ; la clé privée ne quitte jamais le chariot :"),
       h("pre", { class: "jwks" }, JSON.stringify(enrolment.jwks, null, 2)),
       h("button", { class: "button secondary", type: "button", onclick: () => navigator.clipboard?.writeText(JSON.stringify(enrolment.jwks))
         .then(() => toast("Clé copiée."), () => toast("Copie impossible : sélectionnez le texte.")) }, "Copier la clé publique")]
    : [h("p", {}, "Le chariot n'a pas encore de clé pour le serveur régional."),
       h("button", { class: "button primary", type: "button", onclick: async () => {
         await call("POST", "/tech/enrolment/key");
         show("region");
       } }, "Créer la clé du chariot")];
  return [h("section", { class: "card" }, h("h2", {}, "Enrôlement auprès du serveur régional"),
    h("dl", { class: "facts" }, rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", { class: "mono" }, v)])), ...key),
    await regionSettingsCard(() => show("region"))];
}

// --- network: NetworkManager on the cart (agent/technician/network.py) -----------------------------

async function networkTab() {
  let network;
  try {
    network = await call("GET", "/tech/network");
  } catch (failure) {  // without NetworkManager, the proxy is still the agent's to set
    if (failure.status !== 503) throw failure;
    return [h("div", { class: "alert error", role: "alert" }, failure.message), await proxyCard(() => show("reseau"))];
  }
  const rows = network.devices.map((d) => h("tr", {},
    h("td", {}, d.kind), h("td", { class: "mono" }, d.interface), h("td", { class: d.connected ? "" : "warn" }, d.state),
    h("td", {}, d.connection || "—"), h("td", { class: "mono" }, d.addresses.join(", ") || "—"), h("td", {}, d.signal === null ? "—" : `${d.signal} %`)));
  const sections = [h("section", {}, h("h2", {}, "Réseau"),
    h("p", {}, `Accès à Internet : ${network.state}${network.networking ? "" : " (réseau désactivé)"}`),
    network.devices.length
      ? h("table", { class: "items network" }, h("thead", {}, h("tr", {}, ["Liaison", "Interface", "État", "Réseau", "Adresse", "Signal"].map((t) => h("th", {}, t)))),
          h("tbody", {}, rows))
      : h("p", { class: "hint" }, "Aucune interface réseau."))];
  for (const device of network.devices.filter((d) => d.wifi)) sections.push(wifiCard(device));
  for (const device of network.devices.filter((d) => d.modem)) sections.push(mobileCard(device));
  sections.push(await proxyCard(() => show("reseau")));
  return sections;
}

function wifiCard(device) {
  const list = h("div", { class: "found" });
  const search = h("button", { class: "button primary", type: "button", onclick: async () => {
    search.disabled = true;
    list.replaceChildren(h("p", {}, "Recherche des réseaux Wi-Fi…"));
    try {
      const { networks } = await call("GET", `/tech/network/wifi?device=${encodeURIComponent(device.path)}`);
      list.replaceChildren(networks.length ? h("ul", { class: "found-list" }, networks.map((n) => h("li", {},
        h("button", { class: "button secondary", type: "button", onclick: () => list.replaceChildren(joinForm(device, n)) },
          `${n.ssid} · ${n.strength} %${n.secured ? " · protégé" : " · ouvert"}`))))
        : h("p", {}, "Aucun réseau Wi-Fi à portée."));
    } catch (failure) {
      list.replaceChildren(h("div", { class: "alert error", role: "alert" }, failure.message));
    } finally {
      search.disabled = false;
    }
  } }, `Chercher les réseaux Wi-Fi (${device.interface})`);
  return h("section", { class: "card" }, h("h2", {}, `Wi-Fi ${device.interface}`), search, list);
}

function joinForm(device, network) {
  const error = alertBox();
  const form = h("form", { class: "form", novalidate: true },
    h("p", {}, `Rejoindre « ${network.ssid} » : le chariot s'y reconnectera seul après un redémarrage.`),
    network.secured ? field("Mot de passe du réseau Wi-Fi", { name: "password", type: "password", autocomplete: "off", required: true, minlength: 8 }) : null,
    error, h("button", { class: "button primary", type: "submit" }, "Se connecter à ce réseau"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await call("POST", "/tech/network/wifi", { device: device.path, ssid: network.ssid, password: form.password?.value || "" });
      toast(`Le chariot rejoint « ${network.ssid} ».`);
      show("reseau");
    } catch (failure) {
      say(error, failure);
    }
  });
  return form;
}

function mobileCard(device) {
  const error = alertBox();
  const form = h("form", { class: "form", novalidate: true },
    field("Point d'accès (APN) de l'opérateur", { name: "apn", required: true, placeholder: "orange.fr" }), error,
    h("button", { class: "button primary", type: "submit" }, "Utiliser le réseau mobile"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await call("POST", "/tech/network/mobile", { device: device.path, apn: form.apn.value.trim() });
      show("reseau");
    } catch (failure) {
      say(error, failure);
    }
  });
  return h("section", { class: "card" }, h("h2", {}, `4G ${device.interface}`), form);
}

// --- devices: what the technician installs, tests and forgets ----------------------------------------

const STATE_CLASS = { connected: "", connecting: "warn", silent: "warn", absent: "bad", error: "bad" };

async function sensorsTab() {
  const { sensors } = await call("GET", "/sensors");
  const rows = sensors.map((s) => h("tr", {},
    h("td", {}, s.name, h("div", { class: "hint" }, `${s.model}${s.simulated ? " (simulé)" : ""}`)),
    h("td", {}, s.transport === "bluetooth" ? "Bluetooth" : "série"),
    h("td", { class: STATE_CLASS[s.state] || "" }, s.state_text, s.reason ? h("div", { class: "hint" }, s.reason) : null),
    h("td", {}, s.battery === null ? "—" : `${s.battery} %`),
    h("td", {}, s.last_seen ? `reçue à ${new Date(s.last_seen).toLocaleTimeString("fr-FR")}` : "aucune"),
    h("td", {}, s.transport === "bluetooth"
      ? h("button", { class: "button secondary", type: "button", onclick: () => forget(s) }, "Oublier") : null)));
  const table = sensors.length
    ? h("table", { class: "items sensors" }, h("thead", {}, h("tr", {}, ["Capteur", "Liaison", "État", "Batterie", "Dernière mesure", ""].map((t) => h("th", {}, t)))),
        h("tbody", {}, rows))
    : h("p", { class: "hint" }, "Aucun capteur configuré ni associé.");
  const found = h("div", { class: "found" });
  const scan = h("button", { class: "button primary", type: "button", onclick: async () => {
    clearInterval(refreshing);  // the list stays while the technician chooses
    scan.disabled = true;
    found.replaceChildren(h("p", {}, "Recherche des appareils Bluetooth à portée (6 secondes)…"));
    try {
      const { found: devices } = await call("POST", "/bluetooth/scan", { seconds: 6 });
      found.replaceChildren(devices.length ? h("ul", { class: "found-list" }, devices.map((d) => h("li", {},
        `${d.name} (${d.address})${d.rssi === null ? "" : `, signal ${d.rssi} dBm`} `,
        h("button", { class: "button secondary", type: "button", onclick: () => pair(d) }, "Associer"))))
        : h("p", {}, "Aucun appareil de santé à portée : allumez-le, mettez-le en mode appairage, puis recommencez."));
    } catch (failure) {
      found.replaceChildren(h("div", { class: "alert error", role: "alert" }, failure.message));
    } finally {
      scan.disabled = false;
    }
  } }, "Chercher des appareils Bluetooth");
  return [h("section", {}, h("h2", {}, "Capteurs"),
    h("p", { class: "hint" }, "Un capteur se teste en le posant sur un doigt ou un bras : « Dernière mesure » doit changer. Les valeurs ne s'affichent que sur l'écran du chariot."),
    table), h("section", { class: "card" }, h("h2", {}, "Associer un appareil Bluetooth"), scan, found)];
}

async function pair(device) {
  try {
    const sensor = await call("POST", "/bluetooth/pairings", { address: device.address });
    toast(`${sensor.name} associé : il se reconnectera seul.`);
  } catch (failure) {
    toast(failure.message);
  }
  show("capteurs");
}

async function forget(sensor) {
  if (!window.confirm(`Oublier ${sensor.name} ? Il faudra l'associer de nouveau pour s'en servir.`)) return;
  try {
    await call("DELETE", `/sensors/${encodeURIComponent(sensor.id)}`);
    toast(`${sensor.name} oublié.`);
  } catch (failure) {
    toast(failure.message);
  }
  show("capteurs");
}

async function camerasTab() {
  const state = await call("GET", "/cameras");
  const choose = (camera) => h("button", { class: "button secondary", type: "button", "aria-pressed": camera.id === state.active ? "true" : "false",
    disabled: !camera.available, onclick: async () => {
      try {
        await call("PUT", "/tech/cameras/active", { camera: camera.id });
      } catch (failure) {
        toast(failure.message);
      }
      show("cameras");
    } }, camera.id === state.active ? `${camera.label} (active)` : `Voir ${camera.label}`);
  const preview = h("img", { class: "camera-preview", src: "/api/v1/tech/cameras/preview", alt: "Aperçu de la caméra active" });
  preview.addEventListener("error", () => preview.replaceWith(h("p", { class: "hint" },
    "Aperçu indisponible : un appel est peut-être en cours sur le chariot.")));
  return [h("section", {}, h("h2", {}, "Caméras"),
    h("p", { class: "hint" }, "La caméra de la salle montre le résident et le soignant ; la caméra d'examen (dermatoscope, otoscope) se branche en USB. ",
      "Chaque aperçu est tracé ; il n'est pas possible pendant un appel."),
    h("div", { class: "camera-choices" }, state.cameras.map((c) => h("div", { class: "figure" },
      h("div", { class: "what" }, c.label), h("div", { class: "more" }, c.available ? (c.simulated ? "simulée" : "branchée") : "débranchée"),
      choose(c)))),
    state.notice ? h("div", { class: "alert warning", role: "status" }, state.notice) : null,
    preview)];
}

// --- staff accounts: the first administrator, then the administrator's own page on the kiosk -------

async function accountsTab() {
  const { accounts, has_admin: hasAdmin } = await call("GET", "/tech/accounts");
  const table = h("table", { class: "items accounts" },
    h("thead", {}, h("tr", {}, ["Identifiant", "Nom", "Rôle", "État", "Créé le"].map((t) => h("th", {}, t)))),
    h("tbody", {}, accounts.map((a) => h("tr", {}, h("td", { class: "mono" }, a.login), h("td", {}, a.display_name), h("td", {}, a.role_label),
      h("td", { class: a.disabled ? "warn" : "" }, a.disabled ? "désactivé" : "actif"), h("td", {}, stamp(a.created_at))))));
  const sections = [h("section", {}, h("h2", {}, "Comptes du personnel"), table)];
  if (hasAdmin) {
    sections.push(h("p", { class: "hint" }, "Les comptes des soignants et des médecins se créent par l'administrateur de l'établissement, sur l'écran du chariot."));
  } else {
    const error = alertBox();
    const form = h("form", { class: "form card technician-gate", novalidate: true },
      h("h2", {}, "Premier compte administrateur"),
      h("p", { class: "hint" }, "L'établissement n'a pas encore d'administrateur : créez son compte avec lui. Il créera ensuite les comptes des soignants sur l'écran du chariot."),
      field("Identifiant de l'administrateur", { name: "login", autocomplete: "off", required: true }),
      field("Nom affiché", { name: "display_name", autocomplete: "off", required: true }),
      field("Mot de passe (10 caractères au moins, choisi par l'administrateur)", { name: "password", type: "password", autocomplete: "new-password", required: true }),
      error, h("button", { class: "button primary", type: "submit" }, "Créer le compte administrateur"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const made = await call("POST", "/tech/accounts/first-admin", Object.fromEntries(new FormData(form)));
        form.replaceWith(h("section", { class: "card" }, h("h2", {}, `Compte « ${made.login} » créé`),
          h("p", {}, "L'administrateur scanne ce code avec son application d'authentification :"),
          h("div", { class: "enrolled" }, h("img", { src: made.qr_data_uri, alt: "Code QR de l'administrateur" }),
            h("p", {}, "Ou saisit la clé : ", h("strong", { class: "mono" }, made.secret.replace(/(.{4})/g, "$1 ").trim())))));
      } catch (failure) {
        say(error, failure);
      }
    });
    sections.push(form);
  }
  return sections;
}

// --- updates: what runs, and what the last update did (agent/update/releases.py) ----------------------

async function updatesTab() {
  const updates = await call("GET", "/tech/updates");
  const last = updates.history[0];
  return [h("section", { class: "card" }, h("h2", {}, "Mises à jour"),
    h("p", {}, `Version en service : ${updates.agent_version}`),
    updates.trial ? h("div", { class: "alert warning", role: "status" }, `Version ${updates.trial} à l'essai : elle sera annulée si elle ne démarre pas.`) : null,
    last && last.outcome === "annulée" ? h("div", { class: "alert error", role: "alert" }, `Dernière mise à jour annulée : ${last.detail}.`) : null,
    h("p", { class: "hint" }, "Une mise à jour est un paquet signé par l'éditeur, installé à l'essai : si la nouvelle version ne démarre pas, ",
      "le chariot revient seul à la précédente."), uploadForm()),
  h("section", {}, h("h2", {}, "Historique"), updates.history.length
    ? h("table", { class: "items updates" }, h("thead", {}, h("tr", {}, ["Date", "Version", "Issue", "Détail"].map((t) => h("th", {}, t)))),
        h("tbody", {}, updates.history.map((e) => h("tr", {}, h("td", {}, stamp(e.at)), h("td", { class: "mono" }, e.version),
          h("td", { class: e.outcome === "annulée" || e.outcome === "refusée" || e.outcome === "échouée" ? "bad" : "" }, e.outcome), h("td", {}, e.detail)))))
    : h("p", { class: "hint" }, "Aucune mise à jour depuis l'installation."))];
}

function uploadForm() {
  const error = alertBox();
  const form = h("form", { class: "form", novalidate: true },
    field("Paquet de mise à jour (fichier .tar fourni par l'éditeur)", { name: "file", type: "file", accept: ".tar,application/x-tar", required: true }),
    error, h("button", { class: "button primary", type: "submit" }, "Installer cette mise à jour"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!form.file.files.length) return say(error, new Error("Choisissez le fichier de la mise à jour."));
    const button = form.querySelector("button");
    button.disabled = true;
    button.textContent = "Envoi et vérification…";
    try {
      const queued = await call("POST", "/tech/updates", new FormData(form));
      toast(`Version ${queued.version} vérifiée : le chariot l'installe à l'essai et redémarre son agent (une à deux minutes).`);
      setTimeout(() => show("maj"), 4000);
    } catch (failure) {
      say(error, failure);
    } finally {
      button.disabled = false;
      button.textContent = "Installer cette mise à jour";
    }
  });
  return form;
}

async function supportTab() {
  return [h("section", { class: "card" }, h("h2", {}, "Dossier de support"),
    h("p", {}, "Un fichier zip pour l'équipe de support : journal de l'agent, configuration (secrets masqués), diagnostic, état de l'envoi, ",
      "intégrité de la piste d'audit, versions. Il ne contient aucune donnée de santé."),
    h("a", { class: "button primary", href: "/api/v1/tech/support-bundle", download: "" }, "Télécharger le dossier de support"))];
}

// --- start --------------------------------------------------------------------------------------

(async () => {
  try {
    const session = await call("GET", "/tech/session");
    const state = await call("GET", "/tech/state");
    document.getElementById("cart-name").textContent = state.cart_name;
    document.getElementById("fingerprint").textContent =
      `Empreinte du certificat (SHA-256), à comparer avec l'écran du chariot : ${state.fingerprint}`;
    openDesk(session);
  } catch {
    showLogin().catch((failure) => main.replaceChildren(h("div", { class: "alert error", role: "alert" }, failure.message)));
  }
})();
