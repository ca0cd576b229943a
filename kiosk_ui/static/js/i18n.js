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
  navAudit: "Journal",
  dossiers: "Télédossiers",
  consultations: "Téléconsultations programmées et en cours",
  refresh: "Actualiser",
  noDossierTitle: "Aucun télédossier",
  noDossierText: "Les télédossiers créés sur ce chariot apparaîtront ici, du plus urgent au plus ancien.",
  noConsultationTitle: "Aucune téléconsultation prévue",
  noConsultationText: "Les téléconsultations programmées ou en cours apparaîtront ici avec leur heure et le médecin requis.",
  noHealthAccessTitle: "Pas d'accès aux dossiers",
  noHealthAccessText: (role) => `Votre rôle (${role}) ne donne pas accès aux dossiers des résidents.`,
  noHealthAccessAdmin: "Le journal des accès est disponible dans le menu «\u00a0Journal\u00a0».",
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
  residentsLead: "Retrouvez un résident par son nom, son prénom, sa date de naissance ou son INS. Approchante : tolère une faute de frappe ; phonétique : «\u00a0Dupond\u00a0» trouve «\u00a0Dupont\u00a0».",
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
  choose: "Choisir",
  // "Dr Claire Petit": doctors as they sign (agent/directory.py doctor_name)
  doctor: (name, first) => `Dr ${first ? `${first} ` : ""}${name.toLowerCase().replace(/(^|[\s'-])\p{L}/gu, (c) => c.toUpperCase())}`,
  createIdentity: "Créer une identité",
  navNew: "Création",
  newConsultation: "Créer une téléconsultation",
  wizard: {
    title: "Nouvelle téléconsultation",
    progress: "Étapes de la création",
    forResident: (p) => `Pour ${p.display_name}, ${T.bornOn(p.sex, frDate(p.birth_date), ageOn(p.birth_date))}`,
    back: "Retour",
    next: "Suivant",
    abandon: "Abandonner",
    abandonConfirm: "Toucher encore pour abandonner",
    resumed: "Brouillon repris là où vous l'aviez laissé.",
    created: "Télédossier créé, invitations en cours d'envoi.",
    loading: "Chargement…",
    birthName: "Nom de naissance",
    usedName: "Nom d'usage",
    firstNames: "Prénoms",
    birthPlace: "Lieu de naissance",
    bornInFrance: (code) => `France, commune INSEE ${code}`,
    bornAbroad: (country) => `Étranger : ${country}`,
    email: "E-mail",
    mobile: "Téléphone portable",
    checkIdentity: "Vérifiez l'identité avec le résident (bracelet, pièce d'identité) ou son dossier de soins avant de continuer. Si une information est fausse, touchez «\u00a0Retour\u00a0» et choisissez une autre identité, ou signalez l'erreur au référent identitovigilance.",
    consentLead: "Le résident, ou son représentant, a-t-il donné son accord pour cette téléconsultation ?",
    consentGiven: "Consentement recueilli",
    consentGivenText: "Le résident ou son représentant accepte la téléconsultation.",
    consentRefused: "Consentement non recueilli",
    consentRefusedText: "Par exemple : résident hors d'état d'exprimer sa volonté, urgence. Un commentaire le justifie.",
    consentComment: "Commentaire justifiant l'absence de consentement",
    needConsent: "Indiquez si le consentement a été recueilli.",
    needConsentComment: "Sans consentement, un commentaire doit justifier la téléconsultation.",
    kinds: {
      alone: { title: "Résident seul avec l'équipe soignante", text: "Le résident est devant le chariot avec un soignant de l'établissement." },
      relative: { title: "Résident accompagné d'un proche", text: "Un proche est auprès du résident, ou rejoint la téléconsultation à distance." },
      professional: { title: "Résident accompagné d'un professionnel de santé", text: "Un professionnel (médecin traitant, kinésithérapeute…) est présent ou rejoint à distance." },
    },
    companionTitle: "Accompagnant",
    companionName: "Nom de l'accompagnant *",
    companionFirstName: "Prénom de l'accompagnant",
    companionWhere: "L'accompagnant est",
    companionPresent: "Présent auprès du résident",
    companionRemote: "À distance (il reçoit une invitation)",
    companionEmail: "Adresse e-mail de l'accompagnant",
    companionMobile: "Téléphone portable de l'accompagnant",
    needKind: "Choisissez le type d'accompagnement.",
    needCompanionName: "Indiquez le nom de l'accompagnant.",
    needCompanionContact: "Un accompagnant à distance reçoit l'invitation : indiquez son e-mail ou son téléphone portable.",
    directorySearch: "Rechercher un professionnel (nom ou spécialité)",
    directoryEmpty: "Aucun professionnel de l'annuaire ne correspond.",
    notFound: "Je ne trouve pas le professionnel",
    backToDirectory: "Revenir à l'annuaire",
    manualLead: "Saisissez le professionnel consulté. Il reçoit l'invitation par e-mail et/ou SMS.",
    specialistName: "Nom *",
    specialistFirstName: "Prénom",
    specialty: "Spécialité *",
    rpps: "N° RPPS",
    specialistEmail: "E-mail",
    specialistMobile: "Téléphone portable",
    needSpecialist: "Choisissez le professionnel dans l'annuaire, ou touchez «\u00a0Je ne trouve pas le professionnel\u00a0».",
    needSpecialistName: "Indiquez au moins le nom et la spécialité du professionnel.",
    needSpecialistContact: "Le professionnel reçoit l'invitation : indiquez son e-mail ou son téléphone portable.",
    slotNow: "Maintenant",
    slotNowText: "La salle ouvre tout de suite ; l'invitation part immédiatement.",
    slotLater: "Programmer",
    slotLaterText: "Choisissez le jour et l'heure du rendez-vous.",
    slotSaid: (when, opens) => `Rendez-vous ${when} ; la salle ouvre à ${opens}.`,
    slotDate: "Jour",
    slotTime: "Heure de début",
    duration: "Durée",
    roomWindow: "La salle ouvre 15 minutes avant le début et reste accessible 45 minutes après la fin du créneau.",
    needSlot: "Choisissez «\u00a0Maintenant\u00a0» ou programmez un créneau.",
    needSlotDate: "Indiquez le jour et l'heure de début.",
    slotPast: "Ce créneau est déjà passé : choisissez une heure à venir, ou «\u00a0Maintenant\u00a0».",
    resident: "Résident",
    consent: "Consentement",
    accompaniment: "Accompagnement",
    specialist: "Médecin requis",
    slot: "Créneau",
    change: "Modifier",
    invitedAt: (where) => `invité à distance (${where})`,
    reason: "Motif de la téléconsultation (facultatif)",
    createHint: "Le télédossier est créé et les invitations partent par e-mail et SMS. Sans réseau, elles attendent dans la file d'envoi et partent dès son retour.",
    create: "Créer le télédossier et inviter",
  },
  dossier: {
    back: "Retour à l'activité",
    number: (n) => `télédossier n° ${n}`,
    consultation: "Téléconsultation",
    slot: "Créneau",
    room: "Salle",
    window: (opens, closes) => `ouverte de ${opens} à ${closes}`,
    windowSameDay: (day, opens, closes) => `ouverte ${day} de ${opens} à ${closes}`,
    specialist: "Médecin requis",
    accompaniment: "Accompagnement",
    remote: "à distance",
    present: "présent",
    consent: "Consentement",
    consentGiven: (who, when) => `Recueilli par ${who} le ${when}`,
    consentRefused: (comment, who) => `Non recueilli (${who}) : ${comment}`,
    reason: "Motif",
    invitations: "Invitations",
    noInvitation: "Aucune invitation.",
    unnamed: "sans nom",
    byEmail: "E-mail à",
    bySms: "SMS au",
    sent: (when) => `envoyé ${when}`,
    queued: "en cours d'envoi",
    waiting: (why) => `en attente, nouvel essai automatique. ${why}`,
    failed: (why) => `échec : ${why}`,
    revoked: "Révoquée",
    resend: "Renvoyer l'invitation",
    revoke: "Révoquer le lien",
    revokeConfirm: "Toucher encore pour révoquer",
    resent: "Invitation renvoyée.",
    end: "Terminer la téléconsultation",
    enterRoom: "Entrer en salle",
    roomOpensAt: (time) => `La salle ouvrira à ${time}`,
    revokedToast: "Lien révoqué : il n'ouvre plus la salle.",
  },
  navDirectory: "Annuaire",
  navTechnical: "Appel : technique",
  settingsTitle: "Paramètres",
  settingsLead: "Votre signature (photo ou scan d'une signature à l'encre sur papier blanc) s'appose sur les PDF d'un télédossier d'un seul geste.",
  openSettings: "Paramètres",
  directoryAdmin: {
    title: "Annuaire des professionnels",
    lead: "Les professionnels que les infirmier·ères choisissent comme médecin requis. Ils reçoivent les invitations à l'e-mail et au portable indiqués ici.",
    addTitle: "Ajouter un professionnel",
    name: "Nom *", firstName: "Prénom", specialty: "Spécialité *", rpps: "N° RPPS (11 chiffres)", email: "E-mail", mobile: "Téléphone portable",
    add: "Ajouter à l'annuaire",
    added: "Professionnel ajouté.",
    who: "Professionnel", colSpecialty: "Spécialité", colRpps: "RPPS", contacts: "Coordonnées",
    withdraw: "Retirer", restore: "Rétablir",
    withdrawn: "Professionnel retiré : il ne sera plus proposé.", restored: "Professionnel rétabli.",
  },
  visio: {
    button: "Visio SMS",
    title: "Invitation téléphonique",
    lead: "Renseignez les coordonnées du participant. Un SMS et/ou un e-mail lui sont envoyés pour vous rejoindre en téléconsultation, sans télédossier.",
    mobile: "Téléphone portable",
    email: "E-mail",
    send: "Lancer l'invitation",
    needContact: "Indiquez un téléphone portable ou une adresse e-mail.",
    sentTitle: "Invitation envoyée",
    sent: (to, until) => `L'invitation part vers ${to}. La salle est ouverte dès maintenant, jusqu'à ${until}.`,
  },
  consultationEnd: {
    title: (name) => `Fin de téléconsultation — ${name}`,
    evaluation: "Évaluation de l'appel",
    rating: "Qualité de l'appel",
    stars: (n) => "★".repeat(n) + "☆".repeat(5 - n),
    comment: "Commentaire libre",
    documents: "Envoi de documents au patient",
    noPdf: "Aucun document PDF dans ce télédossier.",
    documentsHint: "Le patient reçoit un lien par e-mail et un code par SMS. Seuls les PDF peuvent être envoyés.",
    otherEmail: "Autre destinataire : e-mail (facultatif)",
    otherMobile: "Son téléphone portable (pour le code)",
    payment: "Validation du paiement patient",
    amount: "Montant à régler (€)",
    badAmount: "Montant incorrect : écrivez par exemple 25 ou 25,00.",
    validate: "Valider",
    done: (n) => (n ? `Téléconsultation terminée ; ${n} document(s) envoyé(s) au patient.` : "Téléconsultation terminée."),
  },
  fiche: {
    title: "Fiche de téléconsultation",
    reason: "Motif",
    history: "Antécédents",
    observations: "Observations cliniques",
    vitals: "Constantes",
    noVitals: "Aucune constante relevée.",
    vital: "Constante",
    value: "Valeur",
    valueHint: "ex. 37,8 ou 135/85",
    measured: "Mesurée",
    addVital: "Ajouter la constante",
    vitalAdded: "Constante ajoutée.",
    kinds: {
      spo2: "Saturation en oxygène (SpO2, %)", pulse: "Fréquence cardiaque (/min)", blood_pressure: "Pression artérielle (mmHg)",
      temperature: "Température (°C)", respiratory_rate: "Fréquence respiratoire (/min)", weight: "Poids (kg)",
      glucose: "Glycémie capillaire (g/L)", pain: "Douleur (EVA /10)",
    },
    opinion: "Avis de l'expert",
    opinionWaiting: "En attente de l'avis du médecin requis.",
    save: "Enregistrer la fiche",
    saved: "Fiche enregistrée.",
    sign: "Signer et clôturer",
    signConfirm: "Toucher encore : signature définitive",
    signed: "Avis signé : le télédossier est clôturé.",
    signedBy: (who, when) => `Signé par ${who}, ${when}`,
  },
  documents: {
    title: "Documents",
    add: "Ajouter des documents",
    addHint: "Toucher pour choisir (photos, PDF), ou déposer les fichiers ici. PDF, JPEG ou PNG.",
    none: "Aucun document.",
    added: (name) => `« ${name} » ajouté.`,
    rename: "Nom du document",
    kind: "Type de document",
    kinds: { ordonnance: "Ordonnance", compte_rendu: "Compte rendu", photo: "Photo", resultat: "Résultat d'examen", courrier: "Courrier", autre: "Autre document" },
    renamed: "Document mis à jour.",
    mime: { "application/pdf": "PDF", "image/jpeg": "Photo JPEG", "image/png": "Image PNG" },
    pages: (n) => (n === 1 ? "1 page" : `${n} pages`),
    signedBy: (who) => `signé par ${who}`,
    download: "Ouvrir",
    applySignature: "Appliquer ma signature",
    sendToPatient: "Envoyer au patient",
    sentToPatient: (email, mobile) => `Lien envoyé à ${email} ; le code partira par SMS au ${mobile}.`,
    signedToast: "Signature apposée sur le document.",
    mySignature: "Ma signature",
    noSignature: "Aucune signature chargée.",
    loadSignature: "Charger une signature",
    signatureSaved: "Signature enregistrée.",
    report: "Compte rendu (PDF)",
    export: "Tout télécharger (ZIP)",
  },
  identityForm: {
    lead: "Les champs marqués * sont obligatoires. L'e-mail ou le portable servent à l'envoi de documents au résident.",
    birthName: "Nom de naissance *",
    usedName: "Nom d'usage",
    firstName: "Premier prénom *",
    otherFirstNames: "Autres prénoms",
    otherFirstNamesHint: "Séparés par une virgule",
    birthDate: "Date de naissance *",
    sex: "Sexe *",
    birthplace: "Lieu de naissance",
    bornFrance: "Né(e) en France",
    bornAbroad: "Né(e) à l'étranger",
    bornUnknown: "Information non disponible",
    birthInsee: "Code INSEE de la commune",
    birthInseeHint: "5 caractères, ex. 75056 ; Corse : 2A004",
    birthCountry: "Pays de naissance",
    ins: "INS (matricule)",
    insHint: "15 chiffres : NIR et sa clé",
    email: "E-mail",
    mobile: "Téléphone portable",
    documentChecked: "Identité vérifiée sur une pièce d'identité (carte d'identité, passeport, titre de séjour)",
    cancel: "Annuler",
    submit: "Valider l'identité",
    missing: (what) => `Pour créer l'identité, indiquez : ${what.join(", ")}.`,
    required: { birth_name: "le nom de naissance", first_name: "le premier prénom", birth_date: "la date de naissance", sex: "le sexe" },
    bornSaid: (date, age) => `${date} (${age} ans)`,
    useThis: "C'est cette personne",
    duplicateTitle: "Cette personne existe peut-être déjà. Vérifiez avec le résident avant de créer une autre identité :",
    duplicateSearchFailed: "Les identités proches n'ont pas pu être affichées. Cherchez le résident avant de créer son identité.",
    createAnyway: "Ce n'est pas la même personne : créer l'identité",
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

// "+33612345601" -> "06 12 34 56 01", as French phone numbers are read; others as they are.
export function frPhone(number) {
  const national = /^\+33(\d{9})$/.exec(number || "");
  return national ? `0${national[1]}`.replace(/(\d{2})(?=\d)/g, "$1 ") : number;
}

const longDate = new Intl.DateTimeFormat("fr-FR", { day: "numeric", month: "long", year: "numeric" });

// "5 avril 1937": a date in words, that no browser's date field can show the wrong way round.
export function frLongDate(isoDate) {
  const [y, m, d] = isoDate.split("-").map(Number);
  return longDate.format(new Date(y, m - 1, d));
}

// "aujourd'hui", "demain", "hier", "mardi 3 décembre"
export function frDay(iso, now = new Date()) {
  const d = new Date(iso);
  const tomorrow = new Date(now);
  tomorrow.setDate(now.getDate() + 1);
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (sameDay(d, now)) return "aujourd'hui";
  if (sameDay(d, tomorrow)) return "demain";
  if (sameDay(d, yesterday)) return "hier";
  return dayFormat.format(d);
}

export function isSameDay(isoA, isoB) {
  return sameDay(new Date(isoA), new Date(isoB));
}

// "aujourd'hui, 14 h 30", "demain, 9 h 00", "mardi 3 décembre, 14 h 30"
export function frWhen(iso, now = new Date()) {
  return `${frDay(iso, now)}, ${frTime(new Date(iso))}`;
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
