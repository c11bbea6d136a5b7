"""Downloads that survive interruptions, checksums, and archive extraction that cannot escape its folder.

- :func:`download_file` streams a URL into ``<dest>.part`` with a progress bar; an existing ``.part`` is
  resumed with an HTTP ``Range`` request (a server that ignores it sends the whole file again, which is
  handled); a dropped connection is retried from where it stopped. Size and MD5 are checked when known,
  and only a verified file is renamed onto ``dest``.
- :func:`download_from_mirrors` tries a list of URLs in order.
- :func:`safe_extract` unpacks a zip or tar archive, refusing the whole archive when any member has an
  absolute path, a ``..`` component, is a link or a device file.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import socket
import stat
import tarfile
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from rich.markup import escape

from ganctl import __version__, console
from ganctl.errors import GanctlError, InputError

CHUNK = 1 << 20
RETRIES = 3


def file_md5(path: str | os.PathLike) -> str:
    """MD5 hex digest of a file (read in chunks)."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_file(path: str | os.PathLike, md5: str | None = None, size: int | None = None) -> bool:
    """True when ``path`` exists and matches the given size and MD5 (those given as None are not checked)."""
    path = Path(path)
    if not path.is_file():
        return False
    if size is not None and path.stat().st_size != size:
        return False
    return md5 is None or file_md5(path) == md5.lower()


def _check_scheme(url: str) -> None:
    if not url.lower().startswith(("http://", "https://")):
        raise GanctlError(f"refusing to download {url!r}: only http:// and https:// URLs are allowed")


def _open(url: str, offset: int, timeout: float) -> http.client.HTTPResponse | None:
    """Open ``url`` asking for bytes from ``offset``; None when the server says the range is past the end."""
    headers = {"User-Agent": f"ganctl/{__version__}"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:
            return None
        raise GanctlError(f"download failed: {url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise GanctlError(f"download failed: {url}: {reason} (offline?)") from None


def _stream(url: str, part: Path, timeout: float, description: str) -> int | None:
    """One attempt: append the rest of ``url`` to ``part``. Returns the expected total size if known."""
    have = part.stat().st_size if part.exists() else 0
    resp = _open(url, have, timeout)
    if resp is None:  # 416: the partial file is already complete (or wrong); the caller verifies it
        return have
    with resp:
        length = resp.headers.get("Content-Length")
        if have and resp.status == 206:
            content_range = resp.headers.get("Content-Range", "")
            if not content_range.startswith(f"bytes {have}-"):
                raise GanctlError(f"download failed: {url}: server answered an unexpected range {content_range!r}")
            mode = "ab"
        else:  # 200: the server ignored the Range header and sends everything again
            have, mode = 0, "wb"
        total = have + int(length) if length is not None else None
        got = have
        with open(part, mode) as fh, console.progress(description, total, unit="B") as advance:
            advance(have)
            try:
                for block in iter(lambda: resp.read(CHUNK), b""):
                    fh.write(block)
                    got += len(block)
                    advance(len(block))
            except (http.client.HTTPException, OSError, socket.timeout) as exc:
                raise ConnectionError(str(exc) or type(exc).__name__) from None
        if total is not None and got < total:
            raise ConnectionError(f"connection closed after {got} of {total} bytes")
        return total


def download_file(
    url: str,
    dest: str | os.PathLike,
    *,
    md5: str | None = None,
    size: int | None = None,
    description: str | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download ``url`` to ``dest`` (resuming ``dest.part``), verify size/MD5, then rename into place.

    A file already at ``dest`` that verifies is kept as it is (nothing is downloaded).
    """
    _check_scheme(url)
    dest = Path(dest)
    if dest.is_file() and (md5 or size) and verify_file(dest, md5, size):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    description = description or f"download {dest.name}"
    restarted = False
    attempt = 0
    while True:
        attempt += 1
        try:
            total = _stream(url, part, timeout, description)
        except ConnectionError as exc:
            if attempt >= RETRIES:
                raise GanctlError(f"download interrupted: {url}: {exc}; run the command again to resume") from None
            console.info(f"connection lost ({escape(str(exc))}); resuming")
            continue
        expected = size if size is not None else total
        if verify_file(part, md5, expected):
            break
        # A wrong .part (a stale one from another file, or corrupted) is thrown away once and fetched again.
        part.unlink(missing_ok=True)
        if restarted:
            raise GanctlError(f"download failed: {url}: size or MD5 does not match the expected file")
        restarted = True
    os.replace(part, dest)
    return dest


def download_from_mirrors(urls: Sequence[str], dest: str | os.PathLike, **kwargs) -> Path:
    """Try each URL in turn with :func:`download_file`; the last error is raised if all fail."""
    if not urls:
        raise GanctlError(f"no download URL for {Path(dest).name}")
    last: GanctlError | None = None
    for i, url in enumerate(urls):
        try:
            return download_file(url, dest, **kwargs)
        except GanctlError as exc:
            last = exc
            if i + 1 < len(urls):
                console.info(f"[yellow]{escape(str(exc))}; trying the next mirror[/]")
    assert last is not None
    raise last


def _unsafe_reason(name: str) -> str | None:
    """Why an archive member name is unsafe, or None."""
    if not name or "\x00" in name:
        return "empty or invalid name"
    unix = name.replace("\\", "/")
    if unix.startswith("/") or (len(unix) > 1 and unix[1] == ":"):
        return "absolute path"
    if ".." in PurePosixPath(unix).parts:
        return "path escapes the target folder (..)"
    return None


def _check_zip(zf: zipfile.ZipFile, archive: Path) -> int:
    total = 0
    for info in zf.infolist():
        reason = _unsafe_reason(info.filename)
        mode = info.external_attr >> 16
        if reason is None and stat.S_ISLNK(mode):
            reason = "symbolic link"
        if reason:
            raise InputError(archive, f"unsafe archive member {info.filename!r}: {reason}; nothing extracted")
        total += info.file_size
    return total


def _check_tar(tf: tarfile.TarFile, archive: Path) -> tuple[list[tarfile.TarInfo], int]:
    members, total = [], 0
    for member in tf.getmembers():
        reason = _unsafe_reason(member.name)
        if reason is None and (member.issym() or member.islnk()):
            reason = "link"
        if reason is None and not (member.isfile() or member.isdir()):
            reason = "device or special file"
        if reason:
            raise InputError(archive, f"unsafe archive member {member.name!r}: {reason}; nothing extracted")
        members.append(member)
        total += member.size
    return members, total


def _check_space(target: Path, needed: int, archive: Path) -> None:
    free = shutil.disk_usage(target).free
    if needed > free:
        raise InputError(archive, f"needs {needed / 1e9:.1f} GB to extract but only {free / 1e9:.1f} GB are free")


def safe_extract(archive: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Extract a .zip, .tar, .tar.gz/.tgz archive into ``target``, refusing unsafe members (see module doc)."""
    archive, target = Path(archive), Path(target)
    target.mkdir(parents=True, exist_ok=True)
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                _check_space(target, _check_zip(zf, archive), archive)
                infos = zf.infolist()
                for info in console.track(infos, f"extract {archive.name}", unit="file"):
                    zf.extract(info, target)
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tf:
                members, needed = _check_tar(tf, archive)
                _check_space(target, needed, archive)
                extra = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                for member in console.track(members, f"extract {archive.name}", unit="file"):
                    tf.extract(member, target, **extra)
        else:
            raise InputError(archive, "not a zip or tar archive")
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error) as exc:
        raise InputError(archive, f"corrupt archive ({exc})") from None
    return target

