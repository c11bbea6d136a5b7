"""Imports every module that registers networks (one line per module)."""

import ganctl.models.digits  # noqa: F401
import ganctl.models.gan_nets  # noqa: F401
import ganctl.models.patchgan  # noqa: F401
import ganctl.models.resnet  # noqa: F401
import ganctl.models.unet  # noqa: F401
