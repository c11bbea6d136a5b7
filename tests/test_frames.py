"""`ganctl prepare frames` and the PyAV reader: real clips (mp4, webm, gif), synthetic avi/mov, bad videos."""

from __future__ import annotations

import json

import av
import numpy as np
import pytest
from PIL import Image

from ganctl.data.dataset_meta import read_dataset_meta
from ganctl.data.frames import frame_name, looks_gray
from ganctl.data.video import iter_frames, probe_video, scaled_size
from ganctl.errors import InputError


def one_line_error(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip() and "━" not in line]
    assert result.exit_code == 2, result.output
    assert lines and lines[-1].startswith("error:") and "Traceback" not in result.output, result.output
    return lines[-1]


def make_video(path, frames=10, rate=5, size=(64, 48), codec="mpeg4"):
    """A small video (MPEG-4 Part 2 unless ``codec`` says otherwise) with a different colour per frame."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=rate)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for i in range(frames):
            arr = np.zeros((size[1], size[0], 3), np.uint8)
            arr[..., 0] = 25 * i
            arr[..., 2] = 255 - 25 * i
            for packet in stream.encode(av.VideoFrame.from_ndarray(arr, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


@pytest.fixture(scope="module")
def video_dir(real_data):
    return real_data / "video"


def test_chaplin_fps_size_gray(cli, tmp_path, video_dir):
    out = tmp_path / "chaplin"
    result = cli("prepare", "frames", video_dir / "chaplin.mp4", "--out", out, "--fps", "2", "--size", "72")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (out / "trainA").iterdir())
    assert len(names) == 20
    assert names[0] == "chaplin_t0000.000.png" and names[2] == "chaplin_t0001.000.png"
    times = [float(n[len("chaplin_t"):-4]) for n in names]
    assert all(0.45 < b - a < 0.55 for a, b in zip(times, times[1:]))
    with Image.open(out / "trainA" / names[5]) as img:
        assert img.mode == "L" and img.size == (128, 72)  # 640x360 -> shorter side 72
    meta = read_dataset_meta(out)
    assert meta["kind"] == "frames" and meta["channels"] == {"A": 1}
    assert meta["color_decision"].startswith("gray (all 20 frames")
    assert "20/20" in result.output and "20/19" not in result.output  # the bar's estimate (19) corrected
    assert meta["counts"] == {"trainA": 20, "trainB": 0, "testA": 0, "testB": 0}
    assert meta["videos"][0]["fps"] == 25.0 and meta["videos"][0]["frames_written"] == 20
    for split in ("trainB", "testA", "testB"):
        assert (out / split).is_dir()


def test_every_start_end_and_domain_b_colour(cli, tmp_path, video_dir):
    out = tmp_path / "bunny"
    result = cli("prepare", "frames", video_dir / "big_buck_bunny_432_433.webm", "--out", out, "--every", "4",
                 "--start", "0.25", "--end", "0.75", "--size", "36", "--domain", "B")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (out / "trainB").iterdir())
    # 24 fps: frames at 0.250 .. 0.708 are 12 frames; every 4th -> 3
    assert len(names) == 3 and names[0].startswith("big_buck_bunny_432_433_t0000.2")
    with Image.open(out / "trainB" / names[0]) as img:
        assert img.mode == "RGB" and img.size == (64, 36)
    assert read_dataset_meta(out)["channels"] == {"B": 3}


def test_colour_clip_starting_black_stays_colour(cli, tmp_path, video_dir):
    """The first frames of this clip are black (a fade-in): the colour decision looks at every frame kept."""
    out = tmp_path / "bunny"
    result = cli("prepare", "frames", video_dir / "big_buck_bunny_0_30.webm", "--out", out, "--fps", "0.5",
                 "--size", "32", "--end", "6")
    assert result.exit_code == 0, result.output
    assert "first colour frame" in result.output
    meta = read_dataset_meta(out)
    assert meta["channels"] == {"A": 3} and meta["color_decision"].startswith("rgb")
    names = sorted((out / "trainA").iterdir())
    assert len(names) == 3
    for name in names:  # the black frame at 0 s was written gray first, then made RGB
        with Image.open(name) as img:
            assert img.mode == "RGB"
    with Image.open(names[0]) as img:
        assert np.asarray(img).max() < 16


def test_gif_and_synthetic_avi_mov(cli, tmp_path, video_dir):
    avi, mov = tmp_path / "clip.avi", tmp_path / "clip.mov"
    make_video(avi)
    make_video(mov, frames=6)
    out = tmp_path / "mixed"
    result = cli("prepare", "frames", video_dir / "pigs_in_a_polka.gif", avi, mov, "--out", out, "--color", "rgb")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (out / "trainA").iterdir())
    assert sum(n.startswith("pigs_in_a_polka_t") for n in names) == 30
    assert [n for n in names if n.startswith("clip_t")][:2] == ["clip_t0000.000.png", "clip_t0000.200.png"]
    assert sum(n.startswith("clip-2_t") for n in names) == 6  # same stem twice: the second gets -2
    with Image.open(out / "trainA" / "clip_t0001.800.png") as img:
        r, _, b = np.asarray(img).reshape(-1, 3).mean(0)
        assert abs(r - 225) < 12 and abs(b - 30) < 12  # frame 9's colour
    assert len(read_dataset_meta(out)["videos"]) == 3


@pytest.mark.parametrize("name, codec", [("clip.m4v", "mpeg4"), ("clip.mpg", "mpeg2video"), ("clip.ts", "mpeg4")])
def test_less_common_containers_m4v_mpg_ts(cli, tmp_path, name, codec):
    video = tmp_path / name
    make_video(video, frames=8, codec=codec)
    out = tmp_path / "frames"
    result = cli("prepare", "frames", video, "--out", out, "--color", "rgb")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (out / "trainA").iterdir())
    assert names[:2] == ["clip_t0000.000.png", "clip_t0000.200.png"] and len(names) == 8
    with Image.open(out / "trainA" / names[-1]) as img:
        r, _, b = np.asarray(img).reshape(-1, 3).mean(0)
        assert abs(r - 175) < 12 and abs(b - 80) < 12  # frame 7's colour


def test_bad_videos_are_one_line_errors(cli, tmp_path, video_dir):
    truncated = tmp_path / "cut.webm"
    truncated.write_bytes((video_dir / "big_buck_bunny_0_30.webm").read_bytes()[:60_000])
    assert "truncated" in one_line_error(cli("prepare", "frames", truncated, "--out", tmp_path / "o1"))
    assert not (tmp_path / "o1").exists()
    cut_mp4 = tmp_path / "cut.mp4"
    cut_mp4.write_bytes((video_dir / "chaplin.mp4").read_bytes()[:200_000])
    assert "cut.mp4" in one_line_error(cli("prepare", "frames", cut_mp4, "--out", tmp_path / "o2"))
    text = tmp_path / "notes.mp4"
    text.write_text(json.dumps({"not": "a video"}))
    assert "not a readable video" in one_line_error(cli("prepare", "frames", text, "--out", tmp_path / "o3"))
    assert "no such video" in one_line_error(cli("prepare", "frames", tmp_path / "nope.mp4", "--out",
                                                 tmp_path / "o4"))
    chaplin = video_dir / "chaplin.mp4"
    assert "either --fps or --every" in one_line_error(cli("prepare", "frames", chaplin, "--out", tmp_path / "o5",
                                                           "--fps", "1", "--every", "2"))
    assert "past the end" in one_line_error(cli("prepare", "frames", chaplin, "--out", tmp_path / "o6",
                                                "--start", "60"))
    assert "--end" in one_line_error(cli("prepare", "frames", chaplin, "--out", tmp_path / "o7", "--start", "3",
                                         "--end", "2"))
    assert not any((tmp_path / f"o{i}").exists() for i in range(1, 8))


def test_reader_helpers(video_dir):
    info = probe_video(video_dir / "chaplin.mp4")
    assert (info.width, info.height, info.fps, info.frames, info.codec) == (640, 360, 25.0, 241, "h264")
    assert abs(info.duration - 9.64) < 0.01
    frames = list(iter_frames(video_dir / "chaplin.mp4", start=9.0))
    assert len(frames) == 16 and abs(frames[0][0] - 9.0) < 1e-6 and abs(frames[-1][0] - 9.6) < 1e-6
    assert looks_gray(frames[0][1])
    bunny = next(iter_frames(video_dir / "big_buck_bunny_432_433.webm", size=32))[1]
    assert bunny.shape == (32, 57, 3) and not looks_gray(bunny)
    assert scaled_size(640, 360, 100) == (178, 100) and scaled_size(300, 400, 30) == (30, 40)
    assert frame_name("chaplin", 1.24) == "chaplin_t0001.240.png"
    with pytest.raises(InputError):
        probe_video(video_dir)
