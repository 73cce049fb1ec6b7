"""The typed resources (pydantic v2): the single source of the CRD schemas in ``crds/``."""
