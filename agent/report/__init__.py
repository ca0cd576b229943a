"""The teleconsultation report: a dossier gathered into report data (`export`) and laid out as
a PDF (`pdf`)."""
