"""The API's one registry of routes. Route modules register on it when imported
(agent/api/routes/); the server and the OpenAPI document read it."""

from agent.api.routing import Api

API = Api()
