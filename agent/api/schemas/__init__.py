"""Request and response bodies of the API, one module per domain (pydantic models, the source
of the OpenAPI schemas). Request bodies derive from `common.Strict`: unknown keys are refused."""
