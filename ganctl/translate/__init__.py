"""Batched inference with a trained generator over one image, a folder tree or a video.

The modules, in the order data flows through them (each imports only those before it, never this package):

* :mod:`.adapters`: a :class:`ModelAdapter` per checkpoint ``kind`` (``cyclegan``, ``colorize``) says which
  network runs, which image mode it reads, and how images become network input and back
  (:func:`register_adapter` adds a kind);
* :mod:`.padding`: padding to the generator's size multiple, written so one exported graph serves every size;
* :mod:`.translator`: a :class:`Translator` runs that network on batches of equal-sized uint8 images
  (precision, padding to the generator's multiple, tiling, out-of-memory retry); :func:`load_translator`
  builds one from a checkpoint;
* :mod:`.onnx_translator`: an :class:`~.onnx_translator.OnnxTranslator` runs an exported ``.onnx`` file with
  ONNX Runtime in a Translator's place (``onnxruntime`` imported only then);
* :mod:`.images`: decode and encode one image file;
* :mod:`.pipeline`: :func:`translate_images` decodes in background threads and encodes in workers while
  the model runs, batching images of equal size;
* :mod:`.video`: :func:`translate_video`, every frame of a video into a video;
* :mod:`.planning`: :func:`translate_path` takes a file, folder or video path and plans the outputs;
* :mod:`.summary`: the :class:`TranslateSummary` every call returns.
"""

from ganctl.translate.adapters import ModelAdapter, adapter_for, colour_output, lightness_input, register_adapter
from ganctl.translate.pipeline import Job, translate_images
from ganctl.translate.planning import plan_folder, translate_path
from ganctl.translate.summary import TranslateSummary
from ganctl.translate.translator import Translator, load_translator
from ganctl.translate.video import translate_video

__all__ = [
    "Job",
    "ModelAdapter",
    "TranslateSummary",
    "Translator",
    "adapter_for",
    "colour_output",
    "lightness_input",
    "load_translator",
    "plan_folder",
    "register_adapter",
    "translate_images",
    "translate_path",
    "translate_video",
]
