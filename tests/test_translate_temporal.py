"""translate --temporal (no flicker) and eval video (warp error, PSNR/SSIM), on tiny synthetic videos made here."""

from __future__ import annotations

import json
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from test_translate import make_checkpoint, tiny_network  # noqa: F401  (the fixture registers the net)
from test_translate_video import chaplin_slice, probe  # noqa: F401  (chaplin_slice is a fixture)

from ganctl.color import lab_to_rgb, rgb_to_lab
from ganctl.flow import MotionTracker
from ganctl.metrics.video import video_consistency
from ganctl.translate.temporal import TemporalBlender
from ganctl.translate.video import COLOURISED_CHROMA_QP_OFFSET, translate_video

cv2 = pytest.importorskip("cv2")


def textured(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth random colour texture (something optical flow can follow)."""
    base = np.random.default_rng(seed).uniform(0, 255, (max(2, h // 4), max(2, w // 4), 3)).astype(np.float32)
    return cv2.resize(base, (w, h), interpolation=cv2.INTER_CUBIC).clip(0, 255).astype(np.uint8)


def write_video(path: Path, frames: list[np.ndarray], rate: int = 12, pts: list[int] | None = None,
                time_base: Fraction | None = None, rotation: int | None = None) -> Path:
    """Frames (RGB uint8) into an H.264 video (almost lossless), optionally at given timestamps or rotated."""
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=rate, options={"crf": "10"})
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        if time_base is not None:
            stream.time_base = stream.codec_context.time_base = time_base
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for i, pixels in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels), format="rgb24")
            if pts is not None:
                frame.pts, frame.time_base = pts[i], time_base
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def panning(n: int = 10, size: tuple[int, int] = (96, 64), step: int = 2, gray: bool = False,
            seed: int = 0) -> list[np.ndarray]:
    """``n`` frames of a texture sliding left by ``step`` pixels per frame."""
    w, h = size
    big = textured(h, w + step * n, seed)
    if gray:
        big = np.repeat(cv2.cvtColor(big, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    return [big[:, step * i:step * i + w] for i in range(n)]


class Flickering:
    """A stand-in model whose answer jumps from frame to frame: the input plus a random colour cast per frame."""

    in_mode = "RGB"
    keeps_lightness = False

    def __init__(self) -> None:
        self.rng = np.random.default_rng(1)

    def __call__(self, images: list[np.ndarray]) -> list[np.ndarray]:
        return [np.clip(im.astype(np.int16) + self.rng.integers(-30, 31, 3), 0, 255).astype(np.uint8)
                for im in images]


class FlickeringColorizer(Flickering):
    """Colourises as a colorize model does (the input's lightness kept) with a random chroma per frame."""

    keeps_lightness = True

    def __call__(self, images: list[np.ndarray]) -> list[np.ndarray]:
        outs = []
        for im in images:
            lab = rgb_to_lab(torch.from_numpy(im.astype(np.float32)).permute(2, 0, 1) / 255)
            lab[1] = float(self.rng.uniform(-25, 25))
            lab[2] = float(self.rng.uniform(-25, 25))
            outs.append((lab_to_rgb(lab).permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8))
        return outs


def both_ways(tmp_path: Path, source: Path, model_class: type) -> tuple[dict, dict]:
    """eval video of ``source`` translated frame by frame and with --temporal (reference: the source)."""
    results = []
    for temporal in (False, True):
        out = tmp_path / f"{'temporal' if temporal else 'frames'}.mp4"
        translate_video(source, out, model_class(), temporal=temporal, batch_size=4)
        results.append(video_consistency(out, source, source))
    return results[0], results[1]


def test_temporal_removes_most_flicker_and_keeps_closer_to_the_truth(tmp_path):
    source = write_video(tmp_path / "pan.mp4", panning(12))
    frames, temporal = both_ways(tmp_path, source, Flickering)
    assert frames["frames"] == temporal["frames"] == 12 and temporal["pairs"] == 11 and temporal["cuts"] == 0
    assert not temporal["gray_input"] and temporal["warp_error_on"] == "rgb"
    assert temporal["consistent_fraction"] > 0.8
    assert temporal["warp_error"] < 0.5 * frames["warp_error"]
    # The random casts average out along the motion: closer to the input than any single frame's answer.
    assert temporal["psnr"]["mean"] > frames["psnr"]["mean"]
    assert len(temporal["psnr"]["per_frame"]) == len(temporal["ssim"]["per_frame"]) == 12


def test_colourisation_blends_chroma_and_keeps_the_input_lightness(tmp_path):
    source = write_video(tmp_path / "gray.mp4", panning(10, gray=True))
    frames, temporal = both_ways(tmp_path, source, FlickeringColorizer)
    assert temporal["gray_input"] and temporal["warp_error_on"] == "ab"
    assert temporal["warp_error"] < 0.5 * frames["warp_error"]
    for original, out in zip(probe_frames(source), probe_frames(tmp_path / "temporal.mp4")):
        assert np.abs(lightness(out) - lightness(original)).mean() < 2  # the picture's detail is the input's own


def test_colourised_videos_get_finer_chroma_others_the_default(tmp_path):
    """x264 writes its settings into the stream: a colourisation's chroma is quantised finer (its whole output)."""
    source = write_video(tmp_path / "gray.mp4", panning(4, gray=True))
    for model_class, offset in ((FlickeringColorizer, COLOURISED_CHROMA_QP_OFFSET), (Flickering, 0)):
        out = tmp_path / f"{model_class.__name__}.mp4"
        translate_video(source, out, model_class(), temporal=False, batch_size=4)
        settings = out.read_bytes().split(b"chroma_qp_offset=")[1].split(b" ")[0]
        # x264 lowers the offset by 2 on its own when psycho-visual tuning is on (the default preset).
        assert int(settings) == offset - 2


def lightness(rgb: np.ndarray) -> np.ndarray:
    """Lab L (0-100) of an RGB uint8 frame."""
    return rgb_to_lab(torch.from_numpy(rgb.astype(np.float32)).permute(2, 0, 1) / 255)[0].numpy()


def probe_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def test_a_scene_cut_starts_afresh():
    tracker, blender = MotionTracker(), TemporalBlender()
    first, second = panning(2, seed=0), panning(2, seed=5)
    start = tracker(first[0])
    assert start.cut  # nothing before the first frame
    assert np.array_equal(blender(first[0], start), first[0])
    motion = tracker(first[1])
    assert not motion.cut and motion.fraction > 0.8
    brighter = np.clip(first[1].astype(np.int16) + 40, 0, 255).astype(np.uint8)
    blended = blender(brighter, motion)
    assert np.abs(blended.astype(np.int16) - first[1]).mean() < 20  # mostly the previous answer, moved along
    cut = tracker(second[0])
    assert cut.cut and cut.fraction < 0.3
    assert np.array_equal(blender(second[0], cut), second[0])  # nothing of the last shot carried over


def test_frames_too_small_for_flow_pass_through(tmp_path):
    tracker = MotionTracker()
    tiny = np.zeros((4, 4, 3), np.uint8)
    tracker(tiny)
    assert tracker(tiny).cut


def test_cli_temporal_by_default_and_frame_by_frame(tmp_path, cli):
    source = write_video(tmp_path / "pan.mp4", panning(8))
    model = make_checkpoint(tmp_path / "m.safetensors")
    for flag, name in (([], "default"), (["--frame-by-frame"], "frames"), (["--temporal"], "temporal")):
        result = cli("translate", source, "--out", tmp_path / name, "--model", model, "--precision", "fp32", *flag)
        assert result.exit_code == 0, result.output
        assert "translated 8 frames" in " ".join(result.output.split())
        assert probe(tmp_path / name / "pan.mp4")["frames"] == 8
    default = probe_frames(tmp_path / "default" / "pan.mp4")
    assert all(np.array_equal(a, b) for a, b in zip(default, probe_frames(tmp_path / "temporal" / "pan.mp4")))
    result = cli("eval", "video", tmp_path / "default" / "pan.mp4", "--input", source, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["frames"] == 8 and report["pairs"] == 7 and report["warp_error"] >= 0
    assert "psnr" not in report
    text = cli("eval", "video", tmp_path / "frames" / "pan.mp4", "--input", source, "--reference", source)
    assert text.exit_code == 0, text.output
    assert "warp error" in text.output and "PSNR" in text.output and "SSIM" in text.output


def test_without_opencv_temporal_says_how_to_install_and_the_default_falls_back(tmp_path, cli, monkeypatch):
    source = write_video(tmp_path / "pan.mp4", panning(4))
    model = make_checkpoint(tmp_path / "m.safetensors")
    monkeypatch.setitem(sys.modules, "cv2", None)  # import cv2 now raises ImportError
    result = cli("translate", source, "--out", tmp_path / "a", "--model", model, "--temporal")
    assert result.exit_code == 2 and "pip install 'ganctl[video]'" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "a" / "pan.mp4").exists()
    result = cli("translate", source, "--out", tmp_path / "b", "--model", model, "--precision", "fp32")
    assert result.exit_code == 0, result.output
    assert " ".join(result.output.split()).count("translating frame by frame: temporal consistency needs OpenCV") == 1
    assert probe(tmp_path / "b" / "pan.mp4")["frames"] == 4
    result = cli("eval", "video", tmp_path / "b" / "pan.mp4", "--input", source)
    assert result.exit_code == 2 and "pip install" in result.output


def test_eval_video_frame_count_mismatch_is_one_line(tmp_path, cli):
    long = write_video(tmp_path / "long.mp4", panning(6))
    short = write_video(tmp_path / "short.mp4", panning(4))
    for out, inp in ((long, short), (short, long)):
        result = cli("eval", "video", out, "--input", inp)
        assert result.exit_code == 2, result.output
        assert "frames" in result.output and "Traceback" not in result.output


# Bad input: one line each (exit 2) or a correct video, never a traceback.

def test_truncated_video(tmp_path, cli):
    model = make_checkpoint(tmp_path / "m.safetensors")
    whole = write_video(tmp_path / "whole.mp4", panning(10)).read_bytes()
    (tmp_path / "cut.mp4").write_bytes(whole[: len(whole) // 2])  # the index (moov) at the end is gone
    result = cli("translate", tmp_path / "cut.mp4", "--out", tmp_path / "out", "--model", model)
    assert result.exit_code == 2 and "cut.mp4" in result.output and "Traceback" not in result.output
    webm = tmp_path / "whole.webm"
    with av.open(str(webm), "w") as container:
        stream = container.add_stream("libvpx", rate=12)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        for pixels in panning(12):
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    data = webm.read_bytes()
    (tmp_path / "cut.webm").write_bytes(data[: int(len(data) * 0.6)])
    result = cli("translate", tmp_path / "cut.webm", "--out", tmp_path / "out", "--model", model, "--precision", "fp32")
    assert "Traceback" not in result.output
    if result.exit_code == 0:  # the frames before the cut, as a playable video
        assert 0 < probe(tmp_path / "out" / "cut.webm")["frames"] < 12
    else:
        assert result.exit_code == 2 and "cut.webm" in result.output


def test_video_with_no_video_stream(tmp_path, cli):
    path = tmp_path / "sound.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=8000)
        for i in range(5):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 8000, i * 1024
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    model = make_checkpoint(tmp_path / "m.safetensors")
    result = cli("translate", path, "--out", tmp_path / "out", "--model", model)
    assert result.exit_code == 2 and "sound.mp4: has no video stream" in " ".join(result.output.split())
    result = cli("eval", "video", path, "--input", path)
    assert result.exit_code == 2 and "has no video stream" in " ".join(result.output.split())


def test_variable_frame_rate_keeps_each_frames_time(tmp_path, cli):
    pts = [0, 1, 2, 5, 6, 12, 13, 14]  # in 1/24 s: gaps of 1, 3 and 6 ticks
    source = write_video(tmp_path / "vfr.mp4", panning(len(pts)), rate=24, pts=pts, time_base=Fraction(1, 24))
    model = make_checkpoint(tmp_path / "m.safetensors")
    result = cli("translate", source, "--out", tmp_path / "out", "--model", model, "--precision", "fp32")
    assert result.exit_code == 0, result.output

    def times(path: Path) -> list[float]:
        with av.open(str(path)) as container:
            return [round(float(f.time), 3) for f in container.decode(video=0)]

    assert times(tmp_path / "out" / "vfr.mp4") == times(source) == [round(p / 24, 3) for p in pts]


def test_rotated_phone_video_keeps_its_rotation(tmp_path, cli):
    source = write_video(tmp_path / "phone.mp4", panning(5), rotation=90)
    model = make_checkpoint(tmp_path / "m.safetensors")
    result = cli("translate", source, "--out", tmp_path / "out", "--model", model, "--precision", "fp32")
    assert result.exit_code == 0, result.output
    with av.open(str(tmp_path / "out" / "phone.mp4")) as container:
        frame = next(container.decode(video=0))
        assert frame.rotation == 90 and (frame.width, frame.height) == (96, 64)


def test_one_frame_clip(tmp_path, cli):
    source = write_video(tmp_path / "still.mp4", panning(1))
    model = make_checkpoint(tmp_path / "m.safetensors")
    result = cli("translate", source, "--out", tmp_path / "out", "--model", model, "--precision", "fp32")
    assert result.exit_code == 0, result.output
    assert probe(tmp_path / "out" / "still.mp4")["frames"] == 1
    result = cli("eval", "video", tmp_path / "out" / "still.mp4", "--input", source, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["frames"] == 1 and report["pairs"] == 0 and report["warp_error"] is None


@pytest.mark.realdata
def test_real_black_and_white_clip_is_steadier_with_temporal(tmp_path, chaplin_slice):  # noqa: F811
    frames, temporal = both_ways(tmp_path, chaplin_slice, FlickeringColorizer)
    assert temporal["gray_input"] and temporal["frames"] == 15
    assert temporal["warp_error"] < 0.5 * frames["warp_error"]
