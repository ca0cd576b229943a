"""One module per domain; each registers its routes on `API` when imported."""

from agent.api.routing import Api

API = Api()

from agent.api.routes import audit_trail, call, directory, documents, dossiers, fiche, link, patients, session, system  # noqa: E402,F401  (registration)
