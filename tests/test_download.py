"""Downloads against an HTTP server on 127.0.0.1 started here: resume, checksums, mirrors, safe extraction,
the CycleGAN and CIFAR-10 downloads, and `ganctl prepare download`."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import stat
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from PIL import Image

from ganctl.data.cifar10 import prepare_cifar10, restricted_loads
from ganctl.data.dataset_meta import read_dataset_meta
from ganctl.data.download import download_file, safe_extract
from ganctl.data.grayscale import luma
from ganctl.data.mnist import MNIST_FILES, load_mnist
from ganctl.errors import GanctlError, InputError
from ganctl.paths import datasets_dir, raw_dir


class FileServer:
    """Serves ``files`` (path -> bytes) on 127.0.0.1 with Range support; can cut or ignore ranges."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.cut_once: set[str] = set()
        self.ignore_range: set[str] = set()
        self.log: list[tuple[str, str | None]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                server.log.append((self.path, self.headers.get("Range")))
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                start = 0
                rng = self.headers.get("Range")
                if rng and self.path not in server.ignore_range:
                    start = int(rng.split("=")[1].split("-")[0])
                    if start >= len(body):
                        self.send_error(416)
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                if self.path in server.cut_once:
                    server.cut_once.discard(self.path)
                    self.wfile.write(body[start:start + (len(body) - start) // 2])
                    self.close_connection = True
                    return
                self.wfile.write(body[start:])

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.timeout = 5
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"


@pytest.fixture
def server():
    srv = FileServer()
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()
    srv.thread.join(timeout=5)


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


PAYLOAD = np.random.default_rng(1).integers(0, 256, 300_000, dtype=np.uint8).tobytes()


def test_partial_file_is_resumed_with_range(server, tmp_path):
    server.files["/f.bin"] = PAYLOAD
    dest = tmp_path / "f.bin"
    (tmp_path / "f.bin.part").write_bytes(PAYLOAD[:100_000])
    download_file(server.url("/f.bin"), dest, md5=md5(PAYLOAD), size=len(PAYLOAD))
    assert dest.read_bytes() == PAYLOAD
    assert server.log == [("/f.bin", "bytes=100000-")]
    assert not (tmp_path / "f.bin.part").exists()
    # a verified file is not fetched again
    download_file(server.url("/f.bin"), dest, md5=md5(PAYLOAD))
    assert len(server.log) == 1


def test_dropped_connection_resumes_where_it_stopped(server, tmp_path):
    server.files["/f.bin"] = PAYLOAD
    server.cut_once.add("/f.bin")
    dest = download_file(server.url("/f.bin"), tmp_path / "f.bin", md5=md5(PAYLOAD))
    assert dest.read_bytes() == PAYLOAD
    assert server.log[0] == ("/f.bin", None)
    assert server.log[1] == ("/f.bin", f"bytes={len(PAYLOAD) // 2}-")


def test_server_ignoring_range_restarts_cleanly(server, tmp_path):
    server.files["/f.bin"] = PAYLOAD
    server.ignore_range.add("/f.bin")
    (tmp_path / "f.bin.part").write_bytes(b"stale bytes")
    dest = download_file(server.url("/f.bin"), tmp_path / "f.bin", md5=md5(PAYLOAD))
    assert dest.read_bytes() == PAYLOAD


def test_checksum_mismatch_and_http_errors(server, tmp_path):
    server.files["/f.bin"] = PAYLOAD
    with pytest.raises(GanctlError, match="MD5"):
        download_file(server.url("/f.bin"), tmp_path / "f.bin", md5="0" * 32)
    assert not (tmp_path / "f.bin").exists() and not (tmp_path / "f.bin.part").exists()
    with pytest.raises(GanctlError, match="HTTP 404"):
        download_file(server.url("/missing.bin"), tmp_path / "m.bin")
    with pytest.raises(GanctlError, match="only http"):
        download_file("file:///etc/passwd", tmp_path / "p")


def test_mnist_downloads_from_the_second_mirror(server, mnist_source, monkeypatch):
    for name in MNIST_FILES:
        server.files[f"/mnist/{name}.gz"] = (mnist_source / f"{name}.gz").read_bytes()
    monkeypatch.setenv("GANCTL_MNIST_MIRRORS", f"{server.url('/broken/')} {server.url('/mnist/')}")
    data = load_mnist()
    assert data.train_images.shape == (60000, 28, 28) and data.test_labels.shape == (10000,)
    assert sorted(p.name for p in raw_dir("mnist").iterdir()) == sorted(f"{n}.gz" for n in MNIST_FILES)
    requests = len(server.log)
    assert requests == 8  # each file: 404 on the broken mirror, then the good one
    load_mnist()
    assert len(server.log) == requests  # cached and verified: no new request


def zip_bytes(members: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return buf.getvalue()


def tar_bytes(members: dict[str, bytes], symlinks: dict[str, str] | None = None,
              hardlinks: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for kind, links in ((tarfile.SYMTYPE, symlinks or {}), (tarfile.LNKTYPE, hardlinks or {})):
            for name, target in links.items():
                info = tarfile.TarInfo(name)
                info.type = kind
                info.linkname = target
                tf.addfile(info)
    return buf.getvalue()


@pytest.mark.parametrize("archive", [
    zip_bytes({"ok.txt": b"1", "../evil.txt": b"x"}),
    zip_bytes({"ok.txt": b"1", "/tmp/ganctl_abs_evil.txt": b"x"}),
    zip_bytes({"ok.txt": b"1"}, links={"link": "/etc/passwd"}),
    tar_bytes({"ok.txt": b"1", "a/../../evil.txt": b"x"}),
    tar_bytes({"ok.txt": b"1"}, symlinks={"link": "/etc"}),
    tar_bytes({"ok.txt": b"1"}, hardlinks={"hard": "/etc/passwd"}),
], ids=["zip-dotdot", "zip-absolute", "zip-symlink", "tar-dotdot", "tar-symlink", "tar-hardlink"])
def test_unsafe_archives_are_refused_whole(tmp_path, archive):
    path = tmp_path / "a.bin"
    path.write_bytes(archive)
    target = tmp_path / "box" / "inner"
    with pytest.raises(InputError, match="unsafe archive member"):
        safe_extract(path, target)
    assert list(target.iterdir()) == []
    assert not (tmp_path / "box" / "evil.txt").exists() and not (tmp_path / "evil.txt").exists()


def test_safe_archive_and_corrupt_archive(tmp_path):
    path = tmp_path / "ok.zip"
    path.write_bytes(zip_bytes({"d/x.txt": b"hello", "y.txt": b"!"}))
    safe_extract(path, tmp_path / "out")
    assert (tmp_path / "out" / "d" / "x.txt").read_bytes() == b"hello"
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not an archive at all")
    with pytest.raises(InputError, match="not a zip or tar"):
        safe_extract(bad, tmp_path / "out2")


def jpeg_bytes(color) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), color).save(buf, format="JPEG")
    return buf.getvalue()


def one_line_error(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip() and "━" not in line]
    assert result.exit_code == 2, result.output
    assert lines and lines[-1].startswith("error:"), result.output
    return lines[-1]


def test_cyclegan_download_into_cache_and_malicious_zip(cli, server, monkeypatch, tmp_path):
    members = {f"horse2zebra/{split}/{i}.jpg": jpeg_bytes((i * 40, 10, 200)) for split in ("trainA", "trainB",
                                                                                          "testA") for i in range(3)}
    server.files["/cg/horse2zebra.zip"] = zip_bytes(members)
    server.files["/cg/apple2orange.zip"] = zip_bytes({"apple2orange/trainA/1.jpg": jpeg_bytes(1),
                                                      "apple2orange/../../escape.jpg": jpeg_bytes(2)})
    monkeypatch.setenv("GANCTL_CYCLEGAN_URL", server.url("/cg"))
    result = cli("prepare", "download", "horse2zebra")
    assert result.exit_code == 0, result.output
    folder = datasets_dir() / "horse2zebra"
    meta = read_dataset_meta(folder)
    assert meta["kind"] == "cyclegan-download" and meta["source"].endswith("/cg/horse2zebra.zip")
    assert meta["counts"] == {"trainA": 3, "trainB": 3, "testA": 3, "testB": 0}
    assert (folder / "testB").is_dir() and not (folder / "horse2zebra").exists()
    assert not (raw_dir("cyclegan") / "horse2zebra.zip").exists()
    assert "unsafe archive member" in one_line_error(cli("prepare", "download", "apple2orange", "--out",
                                                         tmp_path / "a2o"))
    assert not (tmp_path / "a2o").exists() and not any(p.name.startswith(".a2o") for p in tmp_path.iterdir())
    assert "licence" in one_line_error(cli("prepare", "download", "cityscapes"))
    assert "unknown dataset" in one_line_error(cli("prepare", "download", "zebra2horse"))


class Evil:
    def __reduce__(self):
        return (os.system, ("touch ganctl_pwned",))


def cifar_tarball(n: int = 4, evil: bool = False) -> tuple[bytes, list[np.ndarray]]:
    """A tiny archive laid out like cifar-10-python.tar.gz (protocol-2 pickles with bytes keys)."""
    rng = np.random.default_rng(0)
    members, batches = {}, []
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        batches.append(data)
        batch = {b"batch_label": name.encode(), b"labels": [int(x) for x in rng.integers(0, 10, n)],
                 b"data": data, b"filenames": [b"f.png"] * n}
        if evil and name == "data_batch_2":
            batch[b"labels"] = Evil()
        members[f"cifar-10-batches-py/{name}"] = pickle.dumps(batch, protocol=2)
    names = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]
    members["cifar-10-batches-py/batches.meta"] = pickle.dumps({b"label_names": names}, protocol=2)
    return tar_bytes(members), batches


def test_cifar10_export_pairs_gray_and_colour(tmp_path):
    archive = tmp_path / "cifar.tar.gz"
    data, batches = cifar_tarball()
    archive.write_bytes(data)
    result = prepare_cifar10(tmp_path / "cifar", archive=archive)
    assert result.counts == {"trainA": 20, "trainB": 20, "testA": 4, "testB": 4}
    meta = read_dataset_meta(tmp_path / "cifar")
    assert meta["classes"][3] == "cat" and meta["channels"] == {"A": 1, "B": 3}
    colour = np.asarray(Image.open(tmp_path / "cifar" / "trainB" / "00006.png"))
    expected = batches[1][1].reshape(3, 32, 32).transpose(1, 2, 0)  # batch 2, image 2 = 6th train image
    assert np.array_equal(colour, expected)
    with Image.open(tmp_path / "cifar" / "trainA" / "00006.png") as gray:
        assert gray.mode == "L"
        assert np.array_equal(np.asarray(gray), luma(expected))


def test_cifar10_refuses_code_in_pickles(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    archive = tmp_path / "evil.tar.gz"
    archive.write_bytes(cifar_tarball(evil=True)[0])
    with pytest.raises(InputError, match="refusing to load"):
        prepare_cifar10(tmp_path / "cifar", archive=archive)
    assert not (tmp_path / "ganctl_pwned").exists() and not (tmp_path / "cifar").exists()
    with pytest.raises(pickle.UnpicklingError):
        restricted_loads(pickle.dumps(Evil()))


def test_cifar10_download_is_md5_checked(cli, server, monkeypatch):
    server.files["/cifar-10-python.tar.gz"] = cifar_tarball()[0]
    monkeypatch.setenv("GANCTL_CIFAR10_URL", server.url("/cifar-10-python.tar.gz"))
    assert "MD5" in one_line_error(cli("prepare", "download", "cifar10"))
    assert not (datasets_dir() / "cifar10").exists()


def test_offline_mnist_error_says_what_to_do(cli, server, monkeypatch, tmp_path):
    monkeypatch.setenv("GANCTL_MNIST_MIRRORS", server.url("/nothing-here/"))
    line = one_line_error(cli("prepare", "mnist-color", "--out", tmp_path / "mc"))
    assert "HTTP 404" in line and "--source" in line and str(raw_dir("mnist")) in line
    assert not (tmp_path / "mc").exists()


def test_cifar10_archive_without_batches_is_refused(tmp_path):
    archive = tmp_path / "other.tar.gz"
    archive.write_bytes(tar_bytes({"cifar-10-batches-py/data_batch_1": b"x"}))
    with pytest.raises(InputError, match="has no data_batch_2"):
        prepare_cifar10(tmp_path / "cifar", archive=archive)


def test_flowers_named_dataset_downloads_and_pairs(cli, server, monkeypatch):
    photos = {f"flower_photos/{kind}/{i}.jpg": jpeg_bytes((200, 40 * i, 30)) for kind in ("daisy", "rose")
              for i in range(5)}
    server.files["/flower_photos.tgz"] = tar_bytes(photos)
    monkeypatch.setenv("GANCTL_FLOWERS_URL", server.url("/flower_photos.tgz"))
    from ganctl.data.registry import resolve_dataset

    folder = resolve_dataset("flowers")
    meta = read_dataset_meta(folder)
    assert meta["kind"] == "flowers" and meta["source"].endswith("/flower_photos.tgz")
    counts = meta["counts"]
    assert counts["trainA"] == counts["trainB"] and counts["trainA"] + counts["testA"] == 10
    gray = sorted(p.relative_to(folder / "trainA") for p in (folder / "trainA").rglob("*.png"))
    colour = sorted(p.relative_to(folder / "trainB") for p in (folder / "trainB").rglob("*.png"))
    assert gray == colour and gray
    assert not list((raw_dir("flowers")).glob(".flowers-*"))  # the extraction folder is gone


def side_by_side_png(left, right, width: int = 16, height: int = 8) -> bytes:
    """One A|B image: the left half coloured ``left``, the right half ``right`` (``width`` may be odd)."""
    img = Image.new("RGB", (width, height), left)
    img.paste(Image.new("RGB", (width - width // 2, height), right), (width // 2, 0))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def test_pix2pix_download_splits_side_by_side_pairs_into_a_and_b(cli, server, monkeypatch, tmp_path):
    members = {f"facades/{split}/{i}.png": side_by_side_png((10 * i, 0, 0), (0, 0, 10 * i + 5))
               for split, n in (("train", 3), ("val", 2), ("test", 2)) for i in range(1, n + 1)}
    members["facades/train/odd.png"] = side_by_side_png((1, 1, 1), (2, 2, 2), width=15)
    server.files["/p2p/facades.tar.gz"] = tar_bytes(members)
    server.files["/p2p/maps.tar.gz"] = tar_bytes({f"maps/{split}/{i}.png": side_by_side_png((i, 0, 0), (0, i, 0))
                                                  for split in ("train", "val") for i in range(2)})
    server.files["/p2p/night2day.tar.gz"] = tar_bytes({"night2day/train/1.png": b"x"}, symlinks={"link": "/etc"})
    monkeypatch.setenv("GANCTL_PIX2PIX_URL", server.url("/p2p"))
    result = cli("prepare", "download", "facades")
    assert result.exit_code == 0, result.output
    folder = datasets_dir() / "facades"
    meta = read_dataset_meta(folder)
    assert meta["kind"] == "pix2pix-download" and meta["paired"] and meta["source"].endswith("/p2p/facades.tar.gz")
    assert meta["counts"] == {"trainA": 3, "trainB": 3, "testA": 2, "testB": 2}
    assert meta["splits"] == {"test": "testA/ testB/", "train": "trainA/ trainB/", "val": "valA/ valB/"}
    assert len(meta["skipped"]) == 1 and "odd.png" in meta["skipped"][0] and "even width" in meta["skipped"][0]
    a = np.asarray(Image.open(folder / "trainA" / "2.png"))
    b = np.asarray(Image.open(folder / "trainB" / "2.png"))
    assert a.shape == b.shape == (8, 8, 3) and (a == (20, 0, 0)).all() and (b == (0, 0, 25)).all()
    assert sorted(p.name for p in (folder / "valB").iterdir()) == ["1.png", "2.png"]
    assert not (raw_dir("pix2pix") / "facades.tar.gz").exists()

    assert cli("prepare", "download", "maps", "--out", tmp_path / "maps").exit_code == 0
    assert read_dataset_meta(tmp_path / "maps")["counts"] == {"trainA": 2, "trainB": 2, "testA": 2, "testB": 2}
    assert "unsafe archive member" in one_line_error(cli("prepare", "download", "night2day", "--out",
                                                         tmp_path / "n2d"))
    assert not (tmp_path / "n2d").exists()
    line = one_line_error(cli("prepare", "download", "cityscapes"))
    assert "licence" in line and "cityscapes-dataset.com" in line


def test_offline_advice_names_only_what_the_command_has(cli, server, monkeypatch, tmp_path):
    """Each command's offline hint: --source only where the command has it, else the command that does."""
    monkeypatch.setenv("GANCTL_MNIST_MIRRORS", server.url("/nothing-here/"))
    monkeypatch.setenv("GANCTL_CYCLEGAN_URL", server.url("/nothing-here"))
    (tmp_path / "a.jpg").write_bytes(jpeg_bytes((10, 20, 30)))
    said = {args: " ".join(one_line_error(cli(*args)).split()) for args in (
        ("train", "cyclegan", "--data", "mnist-color"),
        ("prepare", "download", "mnist"),
        ("eval", "fid", tmp_path, tmp_path, "--features", "digits"),
        ("prepare", "download", "horse2zebra"),
    )}
    for line in said.values():
        assert "HTTP 404" in line
    train, download, fid, horses = said.values()
    assert str(raw_dir("mnist")) in train and "or make it first with: ganctl prepare mnist-color --source DIR" in train
    assert str(raw_dir("mnist")) in download and "--source" not in download
    assert "or install the classifier first with: ganctl train classifier --source DIR" in fid
    assert f"into {datasets_dir() / 'horse2zebra'} (--data horse2zebra then uses it)" in horses
    assert "--data DIR" in horses


def test_errors_name_the_option_and_the_input_as_given(cli, real_data, tmp_path):
    assert one_line_error(cli("prepare", "mnist-color", "--b", "mnist3")).startswith("error: --b: unknown palette")
    video = real_data / "video" / "chaplin.mp4"
    line = " ".join(one_line_error(cli("prepare", "grayscale", video, "--out", tmp_path / "g")).split())
    assert "is a file; give a folder of colour photos; for a video's frames use: ganctl prepare frames" in line
