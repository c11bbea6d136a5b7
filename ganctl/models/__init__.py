"""Networks, found by name through one registry (:func:`create_model`, :func:`list_models`)."""

from ganctl.models.registry import accepts, create_model, list_models, model_spec, register_model

__all__ = ["accepts", "create_model", "list_models", "model_spec", "register_model"]
