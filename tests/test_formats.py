"""The one list of image and video extensions: what counts as which, the .gif rule, no heavy imports."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ganctl.data.formats import (
    IMAGE_EXTENSIONS,
    VIDEO_EXTENSIONS,
    VIDEO_FILE_EXTENSIONS,
    extension_names,
    is_image_path,
    is_video_path,
)


@pytest.mark.parametrize("ext", [".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".ts", ".wmv",
                                 ".flv", ".3gp", ".mts", ".m2ts", ".vob", ".ogv", ".mxf", ".y4m"])
def test_every_common_video_extension_is_a_video(ext):
    assert ext in VIDEO_EXTENSIONS
    assert is_video_path(f"clip{ext}") and is_video_path(f"CLIP{ext.upper()}")
    assert not is_image_path(f"clip{ext}")


def test_a_gif_is_an_image_and_a_video_only_when_asked():
    assert is_image_path("anim.gif") and not is_video_path("anim.gif")
    assert is_video_path("anim.GIF", gif_as_video=True)
    assert not is_video_path("photo.png", gif_as_video=True)
    assert VIDEO_FILE_EXTENSIONS == VIDEO_EXTENSIONS | {".gif"}
    assert not IMAGE_EXTENSIONS & VIDEO_EXTENSIONS


def test_extension_names_are_sorted_without_dots():
    assert extension_names(frozenset({".mp4", ".avi", ".ts"})) == "avi, mp4, ts"


def test_importing_the_formats_imports_neither_torch_nor_pil():
    code = "import sys, ganctl.data.formats; print(sorted(m for m in ('torch', 'PIL', 'numpy') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_prepare_frames_help_lists_every_video_extension(cli):
    result = cli("prepare", "frames", "--help")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.replace("│", " ").split())  # help text wrapped inside a rich panel
    assert extension_names(VIDEO_FILE_EXTENSIONS) in text
