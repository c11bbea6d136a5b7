"""Networks, found by name through one registry (:func:`create_model`, :func:`list_models`).

Importing this package imports every module that registers networks (one line per module: a new
network family is its file plus its name on that line); the registry itself imports none of them.
"""

from ganctl.models import classifier, digits, gan_nets, heads, patchgan, resnet, unet  # noqa: F401  (registers them)
from ganctl.models.registry import accepts, create_model, list_models, model_spec, register_model

__all__ = ["accepts", "create_model", "list_models", "model_spec", "register_model"]
