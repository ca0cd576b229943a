"""The teleconsultation report: a dossier gathered into the report's data (`export`, `model`) and
laid out as a PDF (`pdf`, with its page `layout` and its `text` cleaned for the PDF fonts)."""
