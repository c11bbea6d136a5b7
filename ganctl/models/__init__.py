"""Networks, found by name through one registry (:func:`create_model`, :func:`list_models`)."""

from ganctl.models.registry import create_model, list_models, model_spec, register_model

__all__ = ["create_model", "list_models", "model_spec", "register_model"]
