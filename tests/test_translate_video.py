"""ganctl translate on videos: video in -> video out, same frame count, frame rate and size, audio kept."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from test_frames import make_video
from test_translate import make_checkpoint, negative, tiny_network  # noqa: F401  (the fixture registers the net)

from ganctl.translate import translate_path


def probe(path: Path) -> dict:
    """Frame count, rate, size and codecs of a video, counted by decoding every frame."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        info = {
            "rate": video.average_rate,
            "size": (video.codec_context.width, video.codec_context.height),
            "audio": [s.codec_context.name for s in container.streams.audio],
            "codec": video.codec_context.name,
        }
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        if container.streams.audio:
            container.seek(0)
            info["audio_packets"] = sum(p.size > 0 for p in container.demux(audio=0))
    info["frames"] = len(frames)
    info["first"] = frames[0]
    return info


@pytest.fixture
def chaplin_slice(tmp_path, real_data) -> Path:
    """The first 15 frames of chaplin.mp4 at 160x90 (H.264, 25 fps) with its first 0.6 s of mp3 audio."""
    out_path = tmp_path / "chaplin_slice.mp4"
    with av.open(str(real_data / "video" / "chaplin.mp4")) as src, av.open(str(out_path), "w") as dst:
        video_in, audio_in = src.streams.video[0], src.streams.audio[0]
        video_out = dst.add_stream("libx264", rate=25)
        video_out.width, video_out.height, video_out.pix_fmt = 160, 90, "yuv420p"
        audio_out = dst.add_stream_from_template(audio_in)
        for i, frame in enumerate(src.decode(video_in)):
            if i == 15:
                break
            small = frame.reformat(width=160, height=90, format="yuv420p")
            small.pts = i
            small.time_base = Fraction(1, 25)
            for packet in video_out.encode(small):
                dst.mux(packet)
        for packet in video_out.encode():
            dst.mux(packet)
        src.seek(0)
        for packet in src.demux(audio_in):
            if packet.dts is None or packet.pts * packet.time_base > 0.6:
                continue
            packet.stream = audio_out
            dst.mux(packet)
    return out_path


def test_mp4_with_audio_keeps_frames_rate_size_and_audio(tmp_path, chaplin_slice, cli):
    source = probe(chaplin_slice)
    assert source["frames"] == 15 and len(source["audio"]) == 1 and source["audio"][0].startswith("mp3")
    model = make_checkpoint(tmp_path / "m.safetensors", channels=(1, 3))
    out = tmp_path / "out"
    result = cli("translate", chaplin_slice, "--out", out, "--model", model, "--batch-size", "4",
                 "--precision", "fp32")
    assert result.exit_code == 0, result.output
    assert "translated 15 frames" in " ".join(result.output.split())
    got = probe(out / "chaplin_slice.mp4")
    assert got["frames"] == 15
    assert got["rate"] == 25
    assert got["size"] == (160, 90)
    assert got["audio"] == source["audio"] and got["audio_packets"] == source["audio_packets"] > 10
    # The negating gray->colour model turns a dark frame bright (lossy codecs: compare means).
    assert abs(got["first"].mean() - negative(source["first"]).mean()) < 6


def test_gif_in_gif_out_same_frame_count_and_odd_size(tmp_path, real_data):
    gif = real_data / "video" / "pigs_in_a_polka.gif"
    source = probe(gif)
    model = make_checkpoint(tmp_path / "m.safetensors")
    summary = translate_path(gif, tmp_path / "out", model, device="cpu", precision="fp32", batch_size=8)
    assert summary.translated == source["frames"] == 30
    got = probe(tmp_path / "out" / "pigs_in_a_polka.gif")
    assert got["frames"] == 30 and got["size"] == source["size"] == (314, 273)
    assert np.abs(got["first"].mean() - negative(source["first"]).mean()) < 6
    again = translate_path(gif, tmp_path / "out", model, device="cpu", precision="fp32")
    assert again.translated == 0 and "written before" in again.line()


def test_synthetic_webm_with_size_option(tmp_path):
    source = tmp_path / "clip.webm"
    with av.open(str(source), "w") as dst:
        stream = dst.add_stream("libvpx", rate=12)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        for i in range(9):
            image = np.zeros((64, 96, 3), np.uint8)
            image[:, : 10 * (i + 1)] = (200, 40, 40)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                dst.mux(packet)
        for packet in stream.encode():
            dst.mux(packet)
    model = make_checkpoint(tmp_path / "m.safetensors")
    summary = translate_path(source, tmp_path / "out", model, device="cpu", precision="fp32", size=32,
                             batch_size=4)
    assert summary.translated == 9
    got = probe(tmp_path / "out" / "clip.webm")
    assert got["frames"] == 9 and got["size"] == (48, 32) and got["rate"] == 12


@pytest.mark.parametrize("name, codec, written", [
    ("clip.m4v", "mpeg4", "clip.m4v"), ("clip.mpg", "mpeg2video", "clip.mpg"), ("clip.ts", "mpeg4", "clip.ts"),
    ("clip.3gp", "mpeg4", "clip.3gp"), ("clip.vob", "mpeg2video", "clip.vob"),
    ("clip.y4m", "rawvideo", "clip.mp4"),  # a container FFmpeg reads but ganctl does not write: back as .mp4
])
def test_videos_in_less_common_containers_come_back_as_the_same_kind(tmp_path, cli, name, codec, written):
    source = tmp_path / name
    make_video(source, frames=7, rate=5, size=(64, 48), codec=codec)
    model = make_checkpoint(tmp_path / "m.safetensors")
    result = cli("translate", source, "--out", tmp_path / "out", "--model", model, "--precision", "fp32")
    assert result.exit_code == 0, result.output
    assert "translated 7 frames" in " ".join(result.output.split())
    got = probe(tmp_path / "out" / written)
    assert got["frames"] == 7 and got["size"] == (64, 48) and got["rate"] == 5
    assert abs(got["first"].mean() - negative(probe(source)["first"]).mean()) < 6


def test_broken_video_is_one_line_error(tmp_path, cli):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42 this is not a real video")
    model = make_checkpoint(tmp_path / "m.safetensors")
    result = cli("translate", bad, "--out", tmp_path / "out", "--model", model, "--precision", "fp32")
    assert result.exit_code == 2
    assert "bad.mp4" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out" / "bad.mp4").exists()
