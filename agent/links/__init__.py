"""Everything a person outside the cart opens: invitations and their rooms, Visio SMS, the
specialist's coded access to the dossier, documents shared with the patient."""
