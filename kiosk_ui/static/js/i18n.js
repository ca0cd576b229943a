// Every French word the kiosk shows, in one catalogue, and French formats for dates.
export const T = {
  appName: "Telecart",
  tagline: "Téléconsultation au chevet des résidents",
  gateText: "Connectez-vous avec votre identifiant, votre mot de passe et le code à usage unique de votre application d'authentification.",
  loginTitle: "Connexion",
  loginLead: "Authentification forte",
  login: "Identifiant",
  password: "Mot de passe",
  otp: "Code à usage unique",
  otpHint: "6 chiffres, dans votre application d'authentification",
  signIn: "Se connecter",
  signingIn: "Connexion…",
  lockedTitle: "Poste verrouillé",
  unlockTitle: "Reprendre la session",
  lockedLead: (name) => `Session de ${name}. Saisissez votre mot de passe et votre code pour reprendre.`,
  lockedSide: "Le chariot s'est verrouillé pour protéger les données des résidents.",
  unlock: "Déverrouiller",
  switchUser: "Changer d'utilisateur",
  lock: "Verrouiller",
  logout: "Se déconnecter",
  navActivity: "Activité",
  navAudit: "Journal des accès",
  dossiers: "Télédossiers",
  consultations: "Téléconsultations programmées et en cours",
  refresh: "Actualiser",
  noDossierTitle: "Aucun télédossier",
  noDossierText: "Les télédossiers créés sur ce chariot apparaîtront ici, du plus urgent au plus ancien.",
  noConsultationTitle: "Aucune téléconsultation prévue",
  noConsultationText: "Les téléconsultations programmées ou en cours apparaîtront ici avec leur heure et le médecin requis.",
  noHealthAccessTitle: "Pas d'accès aux dossiers",
  noHealthAccessText: (role) => `Votre rôle (${role}) ne donne pas accès aux dossiers des résidents.`,
  noHealthAccessAdmin: "Le journal des accès est disponible dans le menu « Journal des accès ».",
  count: (n) => (n === 0 ? "aucun" : n === 1 ? "1 dossier" : `${n} dossiers`),
  countConsultations: (n) => (n === 0 ? "aucune" : n === 1 ? "1 téléconsultation" : `${n} téléconsultations`),
  bornOn: (sex, date, age) => `${sex === "F" ? "née" : sex === "M" ? "né" : "né(e)"} le ${date} (${age} ans)`,
  withSpecialist: (name, specialty) => [name, specialty].filter(Boolean).join(" — "),
  noSpecialist: "Médecin requis à choisir",
  minutes: (n) => `${n} min`,
  states: {
    draft: "Brouillon",
    scheduled: "Programmée",
    in_progress: "En cours",
    awaiting_report: "En attente du compte rendu",
    closed: "Clôturé",
  },
  navResidents: "Résidents",
  residentsTitle: "Recherche d'identité",
  residentsLead: "Retrouvez un résident par son nom, son prénom, sa date de naissance ou son INS. Approchante : tolère une faute de frappe ; phonétique : « Dupond » trouve « Dupont ».",
  name: "Nom",
  firstName: "Prénom",
  birthDate: "Date de naissance",
  ins: "INS",
  sex: "Sexe",
  anySex: "Tous",
  sexes: { F: "Féminin", M: "Masculin", I: "Indéterminé" },
  searchMode: "Recherche",
  searchModes: { exact: "Exacte", approaching: "Approchante", phonetic: "Phonétique" },
  search: "Rechercher",
  seeMore: "Voir la suite",
  noResident: "Aucun résident ne correspond à cette recherche.",
  results: (n) => (n === 1 ? "1 résident" : `${n} résidents`),
  partial: (shown, total) => `Seuls les ${shown} premiers sont affichés sur ${total}.`,
  bornName: (name) => `nom de naissance : ${name}`,
  residentColumns: { who: "État civil", born: "Date de naissance", match: "Taux de corresp.", ins: "INS", status: "Identité" },
  identityStatus: { PROV: "Provisoire", RECUP: "Récupérée", VALI: "Validée", QUAL: "Qualifiée" },
  auditTitle: "Journal des accès",
  auditLead: "Chaque connexion et chaque accès aux données de santé est tracé. Filtrez par patient ou par utilisateur.",
  filterPatient: "Patient (identifiant)",
  filterActor: "Utilisateur (identifiant de connexion)",
  filter: "Filtrer",
  clearFilters: "Tout afficher",
  older: "Plus anciens",
  auditEmpty: "Aucun enregistrement ne correspond à ces filtres.",
  columns: { at: "Date", actor: "Utilisateur", action: "Action", patient: "Patient", from: "Adresse", outcome: "Résultat" },
  outcomes: { success: "Réussi", failure: "Échec", denied: "Refusé" },
  actions: {
    "login": "Connexion",
    "logout": "Déconnexion",
    "session.lock": "Verrouillage du poste",
    "session.unlock": "Déverrouillage du poste",
    "session.expired": "Session expirée",
    "access.csrf": "Requête refusée (jeton de sécurité)",
    "access.forbidden": "Accès refusé (rôle)",
    "access.origin": "Requête refusée (origine étrangère)",
    "account.create": "Création d'un compte",
    "patient.create": "Création d'une identité",
    "patient.read": "Lecture d'une identité",
    "patient.list": "Liste des identités",
    "patient.search": "Recherche d'identité",
    "patient.update": "Correction d'une identité",
    "dossier.create": "Création d'un télédossier",
    "dossier.list": "Liste des télédossiers",
    "audit.read": "Consultation du journal",
  },
  networkError: "Le chariot ne répond pas. Vérifiez qu'il est allumé, puis réessayez.",
  genericError: "Une erreur est survenue. Réessayez.",
  lockedByIdle: "Poste verrouillé après inactivité.",
  loggedOut: "Vous êtes déconnecté(e).",
};

const dayFormat = new Intl.DateTimeFormat("fr-FR", { weekday: "long", day: "numeric", month: "long" });
const dateFormat = new Intl.DateTimeFormat("fr-FR", { day: "2-digit", month: "2-digit", year: "numeric" });

function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

// "14 h 30", as French typography writes times.
export function frTime(d) {
  return `${d.getHours()} h ${String(d.getMinutes()).padStart(2, "0")}`;
}

// "aujourd'hui, 14 h 30", "demain, 9 h 00", "mardi 3 décembre, 14 h 30"
export function frWhen(iso, now = new Date()) {
  const d = new Date(iso);
  const tomorrow = new Date(now);
  tomorrow.setDate(now.getDate() + 1);
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  let day = dayFormat.format(d);
  if (sameDay(d, now)) day = "aujourd'hui";
  else if (sameDay(d, tomorrow)) day = "demain";
  else if (sameDay(d, yesterday)) day = "hier";
  return `${day}, ${frTime(d)}`;
}

export function frDate(isoDate) {
  const [y, m, d] = isoDate.split("-").map(Number);
  return dateFormat.format(new Date(y, m - 1, d));
}

export function ageOn(isoDate, now = new Date()) {
  const [y, m, d] = isoDate.split("-").map(Number);
  let age = now.getFullYear() - y;
  if (now.getMonth() + 1 < m || (now.getMonth() + 1 === m && now.getDate() < d)) age -= 1;
  return age;
}

const stampFormat = new Intl.DateTimeFormat("fr-FR", { dateStyle: "short", timeStyle: "medium" });

// "25/11/2026 08:10:24": the audit trail needs the second.
export function frStamp(iso) {
  return stampFormat.format(new Date(iso));
}
