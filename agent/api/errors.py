"""API errors: JSON bodies `{"error": code, "message": French text a nurse can read}`.

Nothing else ever reaches a client: unexpected exceptions are logged and answered with a generic
500 body, never a stack trace.
"""

from __future__ import annotations

from typing import Any

# code -> (HTTP status, message shown to the user)
MESSAGES: dict[str, tuple[int, str]] = {
    "bad_credentials": (401, "Identifiant, mot de passe ou code à usage unique incorrect."),
    "replayed_code": (401, "Ce code à usage unique a déjà servi. Attendez le code suivant (30 secondes) et réessayez."),
    "account_locked": (423, "Compte verrouillé après plusieurs essais infructueux. Réessayez dans {minutes} minute(s) ou appelez un administrateur."),
    "factor_unavailable": (409, "Ce compte ne peut pas recevoir de code par {channel} : utilisez votre application d'authentification, ou demandez à un administrateur d'enregistrer vos coordonnées."),
    "psc_other_doctor": (403, "Pro Santé Connect vous a identifié(e), mais ce lien a été envoyé à un autre médecin : demandez à l'établissement de vous inviter."),
    "psc_kiosk_only": (403, "La connexion Pro Santé Connect du personnel se fait sur l'écran du chariot seulement."),
    "psc_off": (409, "Pro Santé Connect n'est pas activé sur ce chariot : connectez-vous avec votre carte CPS ou votre identifiant."),
    "psc_unavailable": (503, "Pro Santé Connect est injoignable ({reason}) : connectez-vous avec votre carte CPS ou votre identifiant."),
    "card_kiosk_only": (403, "La carte CPS s'utilise sur l'écran du chariot seulement."),
    "card_absent": (409, "{reason}"),
    "card_unavailable": (503, "Connexion par carte impossible : {reason}. Connectez-vous avec votre identifiant."),
    "card_removed": (409, "La carte a été retirée pendant la connexion : insérez-la de nouveau."),
    "pin_wrong": (401, "Code porteur erroné. Il reste {left} essai(s) avant le blocage de la carte."),
    "pin_last_try": (409, "Dernier essai avant le blocage de la carte : vérifiez votre code porteur, puis confirmez."),
    "card_blocked": (423, "Carte CPS bloquée après trop de codes porteur erronés. Elle se débloque avec son code de déblocage : voyez le responsable des cartes de votre établissement. Connectez-vous avec votre identifiant."),
    "card_proof_failed": (401, "La carte n'a pas prouvé son identité (signature invalide) : connexion refusée."),
    "card_not_linked": (403, "La carte CPS de {name} n'est liée à aucun compte actif du chariot : demandez à un administrateur de la lier à votre compte (RPPS {rpps})."),
    "network_unavailable": (503, "{reason}"),
    "clock_unavailable": (503, "{reason}"),
    "sound_test_busy": (409, "Test du son impossible maintenant : un appel ou un autre test est en cours sur le chariot."),
    "update_refused": (422, "Mise à jour refusée : {reason}. Rien n'a été installé."),
    "clock_ntp_on": (409, "L'heure réseau (NTP) est active : coupez-la avant de régler l'heure à la main."),
    "timezone_unknown": (422, "Fuseau horaire inconnu : {zone}."),
    "setting_invalid": (422, "Réglage refusé ({field}) : une adresse web complète est attendue, par exemple https://serveur.exemple/fhir ou http://proxy:3128."),
    "wifi_not_in_range": (422, "Le réseau Wi-Fi « {ssid} » n'est plus à portée : relancez la recherche."),
    "wifi_password_length": (422, "Le mot de passe d'un réseau Wi-Fi protégé a de 8 à 63 caractères."),
    "preview_during_call": (409, "Un appel est en cours sur le chariot : l'aperçu des caméras reviendra quand il sera terminé."),
    "admin_exists": (409, "L'établissement a déjà un compte administrateur : c'est lui qui crée les autres comptes, sur l'écran du chariot."),
    "technician_only": (403, "Cette page est réservée aux comptes technicien. Le personnel soignant se connecte sur l'écran du chariot."),
    "first_boot_over": (409, "Le chariot a déjà un compte technicien : connectez-vous avec votre identifiant, votre mot de passe et votre code."),
    "first_boot_code_wrong": (401, "Code de mise en service incorrect. Recopiez celui qu'affiche l'écran du chariot (il change après {tries} essais erronés)."),
    "account_exists": (409, "Un compte porte déjà l'identifiant « {login} » : choisissez-en un autre."),
    "login_invalid": (422, "Identifiant invalide : 2 à 40 lettres minuscules, chiffres, « . », « _ » ou « - »."),
    "not_logged_in": (401, "Vous n'êtes pas connecté(e). Identifiez-vous pour continuer."),
    "session_expired": (401, "Votre session a expiré. Identifiez-vous à nouveau."),
    "session_locked": (423, "Le poste est verrouillé. Saisissez votre mot de passe et votre code pour le déverrouiller."),
    "csrf_missing": (403, "Requête refusée : jeton de sécurité absent ou invalide. Rechargez la page."),
    "origin_refused": (403, "Requête refusée : elle ne vient pas de l'application Telecart."),
    "host_refused": (421, "Requête refusée : ce chariot ne répond pas sous ce nom."),
    "bad_request": (400, "Requête refusée : elle est mal formée."),
    "forbidden": (403, "Votre rôle ne permet pas cette action."),
    "not_found": (404, "Élément introuvable."),
    "likely_duplicate": (409, "Cette identité existe peut-être déjà : {names}. Vérifiez avant d'en créer une autre."),
    "identity_traits_locked": (409, "Cette identité vient du téléservice INSi (récupérée ou qualifiée) : {traits} ne se corrige(nt) que par une nouvelle qualification. Le nom d'usage, la civilité, l'adresse et les contacts restent modifiables."),
    "identity_needs_ins": (422, "Une identité récupérée ou qualifiée a un INS : indiquez-le, ou gardez le statut « provisoire » ou « validée »."),
    "card_already_linked": (409, "Cette carte CPS est déjà liée au compte « {other} » : déliez-la d'abord."),
    "account_self": (409, "Vous ne pouvez pas désactiver votre propre compte : demandez-le à un autre administrateur."),
    "weak_password": (422, "Mot de passe trop court : {minimum} caractères au moins."),
    "patient_unknown": (422, "Ce résident n'existe pas (ou plus) sur le chariot. Recherchez-le à nouveau."),
    "specialist_unknown": (422, "Ce professionnel n'est plus dans l'annuaire. Choisissez-en un autre ou saisissez-le."),
    "specialist_unreachable": (422, "{name} n'a ni e-mail ni téléphone portable dans l'annuaire : il ne pourrait pas recevoir l'invitation."),
    "slot_overlap": (409, "La téléconsultation de {other} occupe déjà le chariot : il ne peut être que dans une salle à la fois. Choisissez un autre créneau, ou confirmez pour programmer les deux."),
    "deadline_too_close": (422, "L'échéance d'une téléexpertise laisse au moins quelques heures à l'expert pour répondre."),
    "expertise_has_no_call": (409, "Une téléexpertise n'a pas d'appel : l'expert répond par écrit dans le télédossier."),
    "slot_in_past": (422, "Le créneau choisi est déjà passé. Choisissez une heure à venir, ou « Maintenant »."),
    "bad_transition": (409, "La téléconsultation est « {current} » : elle ne peut pas passer à « {wanted} »."),
    "invitation_live": (409, "Ce lien est toujours valable : utilisez « Renvoyer l'invitation »."),
    "invitation_revoked": (409, "Cette invitation a été révoquée : invitez à nouveau le participant pour lui envoyer un nouveau lien."),
    "closed_by_signature_only": (409, "Seule la signature du médecin requis clôture un télédossier. Pour l'arrêter, annulez-le en indiquant pourquoi."),
    "cancel_needs_reason": (409, "Un télédossier s'annule avec un motif : utilisez « Annuler la téléconsultation »."),
    "dossier_cancelled": (409, "Ce télédossier est annulé : il ne peut plus être modifié."),
    "dossier_closed": (409, "Ce télédossier est clôturé et signé par {signed_by} : il ne peut plus être modifié."),
    "expert_part_only": (403, "L'avis de l'expert et la signature reviennent au médecin requis."),
    "opinion_missing": (422, "Rédigez l'avis de l'expert avant de signer."),
    "vital_not_measured": (409, "Pas de mesure stable et récente à enregistrer : {labels}. Attendez que la valeur s'affiche, ou saisissez-la."),
    "bluetooth_off": (409, "Bluetooth est désactivé sur ce chariot : le technicien l'active dans la configuration ([bluetooth] enabled)."),
    "bluetooth_unavailable": (503, "Recherche Bluetooth impossible : {reason}."),
    "pairing_failed": (409, "Association impossible : {reason}. Rapprochez l'appareil du chariot, allumez-le, et réessayez."),
    "sensor_not_ready": (409, "{name} n'est pas prêt ({state}) : vérifiez qu'il est branché et allumé."),
    "implausible_vital": (422, "{label} : « {value} » n'est pas une valeur plausible ({unit})."),
    "document_refused": (422, "{reason}"),
    "file_missing": (400, "Aucun fichier reçu : joignez le document dans le champ « file »."),
    "file_too_large": (413, "Le fichier dépasse la taille maximale de {limit} Mo."),
    "not_a_pdf": (409, "Seul un document PDF peut recevoir une signature ou être envoyé au résident."),
    "no_signature": (409, "Chargez d'abord votre signature dans vos paramètres."),
    "no_signature_image": (409, "Chargez d'abord l'image de votre signature (une fois : elle est gardée pour vos prochains liens vers ce chariot)."),
    "prescription_empty": (422, "L'ordonnance est vide : ajoutez au moins un médicament ou un texte."),
    "link_session_missing": (401, "Accès au télédossier expiré ou absent : rouvrez votre lien d'invitation et demandez un nouveau code."),
    "not_a_specialist_link": (403, "Ce lien permet de rejoindre la téléconsultation, pas d'ouvrir le télédossier (réservé au médecin requis)."),
    "link_refused": (403, "{reason}"),
    "too_many_tries": (429, "Trop d'essais depuis cet appareil. Réessayez dans {minutes} minute(s)."),
    "code_too_soon": (429, "Un code vient d'être envoyé. Attendez {seconds} secondes avant d'en demander un autre."),
    "code_expired": (401, "Ce code a expiré ou a servi trop de fois. Demandez un nouveau code."),
    "code_wrong": (401, "Code incorrect. Il vous reste {left} essai(s)."),
    "patient_unreachable": (422, "Pour envoyer un document, il faut l'e-mail (le lien) et le téléphone portable (le code) du résident : ajoutez-les avec « Identité et coordonnées » en haut du télédossier."),
    "mssante_off": (409, "{reason}"),
    "mssante_address": (422, "{reason}"),
    "mssante_nothing": (422, "Cochez au moins un document PDF (ou le compte rendu) à envoyer."),
    "mssante_not_pdf": (409, "Seuls les documents PDF partent par messagerie sécurisée : « {name} » n'en est pas un."),
    "mssante_too_large": (413, "L'envoi pèserait {size} Mo, au-delà des {limit} Mo que l'opérateur MSSanté accepte : envoyez moins de documents à la fois."),
    "share_unknown": (404, "Ce lien de téléchargement n'est pas reconnu. Vérifiez qu'il a été copié en entier."),
    "share_expired": (410, "Ce lien de téléchargement a expiré. Demandez à l'établissement de vous renvoyer le document."),
    "room_not_open": (409, "La salle n'est pas encore ouverte : elle ouvrira à {opens}."),
    "room_closed": (409, "La salle de cette téléconsultation est fermée : le créneau est terminé."),
    "no_room": (409, "Ce télédossier n'a pas de salle de téléconsultation."),
    "cart_busy": (409, "Le chariot est déjà en salle pour une autre téléconsultation : quittez-la d'abord."),
    "not_in_call": (409, "Le chariot n'est pas en salle pour cette téléconsultation."),
    "camera_unavailable": (409, "Cette caméra n'est pas branchée. Branchez-la ou choisissez l'autre caméra."),
    "snapshot_failed": (409, "{reason}"),
    "not_admitted": (403, "Vous êtes en salle d'attente : l'équipe soignante ou le médecin doit d'abord vous faire entrer."),
    "no_dossier_for_room": (409, "Cette visio n'a pas de télédossier : le document ne peut pas y être enregistré."),
    "practice_off": (404, "Le mode entraînement n'est pas activé sur ce chariot ([practice] enabled)."),
    "practice_already": (409, "Vous êtes déjà dans le mode entraînement."),
    "practice_not_inside": (409, "Ce kiosque n'est pas celui de l'entraînement : il n'y a rien à quitter."),
    "practice_code_expired": (401, "Ce passage vers l'entraînement a expiré : identifiez-vous avec votre mot de passe habituel, ou quittez l'entraînement."),
    "practice_no_print": (409, "En entraînement, rien n'est imprimé : une ordonnance fictive ne doit pas arriver à la pharmacie. Hors entraînement, ce bouton imprime pour de vrai."),
    "print_server_down": (503, "Le service d'impression (CUPS) ne répond pas : rien n'a été imprimé, le document reste dans le télédossier. Réessayez dans un instant ; si cela dure, prévenez le support technique."),
    "printing_missing": (503, "L'impression n'est pas installée sur ce chariot (bibliothèque CUPS absente) : rien n'a été imprimé. Prévenez le support technique."),
    "printer_missing": (409, "L'imprimante « {printer} » n'existe plus sur le service d'impression : rien n'a été imprimé. Le technicien doit choisir une autre imprimante."),
    "no_printer": (409, "Aucune imprimante n'est choisie pour ce chariot et le service d'impression n'en a pas par défaut : rien n'a été imprimé. Le technicien doit en choisir une."),
    "printer_refusing": (409, "L'imprimante « {printer} » refuse les impressions pour le moment : rien n'a été imprimé. Prévenez le support technique."),
    "not_printable": (409, "Seul un document PDF s'imprime depuis le chariot : « {name} » n'en est pas un."),
    "print_job_gone": (404, "Ce travail d'impression n'est plus suivi par le chariot (il a redémarré) : vérifiez ce qui est sorti de l'imprimante et relancez l'impression s'il le faut."),
    "print_job_over": (409, "Cette impression est terminée ({state}) : elle ne peut plus être annulée."),
    "route_not_found": (404, "Cette adresse n'existe pas."),
    "method_not_allowed": (405, "Cette action n'est pas possible à cette adresse."),
    "malformed_json": (400, "La requête est mal formée (JSON illisible)."),
    "invalid_request": (422, "Certains champs sont incorrects : {summary}"),
    "unsupported_media_type": (415, "Format de requête non pris en charge : envoyez du JSON."),
    "payload_too_large": (413, "La requête est trop volumineuse."),
    "storage_full": (503, "Le disque du chariot est plein : rien n'a été enregistré. Prévenez le support technique."),
    "not_ready": (503, "Le chariot démarre, réessayez dans quelques secondes."),
    "internal": (500, "Une erreur interne est survenue. Elle a été enregistrée ; réessayez ou prévenez le support technique."),
}


class ApiError(Exception):
    def __init__(self, code: str, *, fields: list[dict[str, str]] | None = None, headers: dict[str, str] | None = None,
                 duplicates: list[dict[str, str]] | None = None, overlaps: list[dict[str, str]] | None = None,
                 **params: Any) -> None:
        status, template = MESSAGES[code]
        super().__init__(code)
        self.code = code
        self.status = status
        self.message = template.format(**params) if params else template
        self.fields = fields
        self.duplicates = duplicates
        self.overlaps = overlaps
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        if self.duplicates:
            body["duplicates"] = self.duplicates
        if self.overlaps:
            body["overlaps"] = self.overlaps
        return body


# pydantic error types -> French explanations for one field
_FIELD_MESSAGES = {
    "missing": "champ obligatoire",
    "string_too_short": "trop court",
    "string_too_long": "trop long",
    "too_short": "au moins une valeur attendue",
    "too_long": "trop de valeurs",
    "date_from_datetime_parsing": "date attendue au format AAAA-MM-JJ",
    "date_parsing": "date attendue au format AAAA-MM-JJ",
    "date_type": "date attendue au format AAAA-MM-JJ",
    "literal_error": "valeur non autorisée",
    "enum": "valeur non autorisée",
    "extra_forbidden": "champ inconnu",
    "string_type": "texte attendu",
    "int_parsing": "nombre entier attendu",
    "int_type": "nombre entier attendu",
    "greater_than_equal": "valeur trop petite",
    "less_than_equal": "valeur trop grande",
    "string_pattern_mismatch": "format incorrect",
    "model_type": "objet JSON attendu",
    "list_type": "liste attendue",
    "dict_type": "objet JSON attendu",
}


# API field names -> words a nurse reads in the message (the `fields` list keeps the API names)
FIELD_LABELS = {
    "birth_name": "nom de naissance",
    "used_name": "nom d'usage",
    "first_names": "prénoms",
    "birth_date": "date de naissance",
    "sex": "sexe",
    "identity_status": "statut de l'identité",
    "login": "identifiant",
    "password": "mot de passe",
    "otp": "code à usage unique",
    "limit": "nombre de résultats",
    "offset": "position",
    "reason": "motif",
    "ins": "INS",
    "email": "e-mail",
    "mobile": "téléphone portable",
    "birth_insee": "commune de naissance",
    "birth_country": "pays de naissance",
    "name": "nom",
    "first_name": "prénom",
    "mode": "mode de recherche",
    "patient_id": "résident",
    "consent": "consentement",
    "accompaniment": "accompagnement",
    "companion": "accompagnant",
    "specialist": "médecin requis",
    "slot": "créneau",
    "start": "début",
    "duration_minutes": "durée",
    "specialty": "spécialité",
    "rpps": "RPPS",
    "comment": "commentaire",
    "directory_id": "annuaire",
}


_UNION_TAGS = frozenset({"manual", "directory"})


def _label(where: str) -> str:
    """`first_names.1` -> "prénoms n° 2"; `specialist.email` -> "médecin requis, e-mail"."""
    parts = where.split(".")
    words: list[str] = []
    for part in parts:
        if part.isdigit() and words:
            words[-1] += f" n° {int(part) + 1}"
        else:
            words.append(FIELD_LABELS.get(part, part))
    return ", ".join(words)


def from_validation_errors(errors: list[dict[str, Any]]) -> ApiError:
    fields = []
    for error in errors:
        # empty: a rule on the whole request; union tags ("manual") are schema plumbing, not fields
        where = ".".join(str(part) for part in error["loc"] if part not in _UNION_TAGS)
        if error.get("input", "") is None and where:  # "field": null is an empty required field
            text = _FIELD_MESSAGES["missing"]
        elif error["type"] in ("value_error", "assertion_error"):
            text = str(error.get("ctx", {}).get("error", error["msg"]))
        else:
            text = _FIELD_MESSAGES.get(error["type"], "valeur incorrecte")
        fields.append({"field": where, "message": text})
    summary = "; ".join(f"{_label(f['field'])} : {f['message']}" if f["field"] else f["message"] for f in fields[:5])
    return ApiError("invalid_request", fields=fields, summary=summary)
