"""The teleconsultation dossier: its states, fiche, vitals, documents, end, the wizard's draft and
the directory of professionals it invites."""
