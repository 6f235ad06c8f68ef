"""Real small filesystems for tests: a tmpfs that fills up, or one mounted read-only.

Mounting needs root (the CI machine runs the tests as root). Where it is not permitted the
test is skipped with the reason, except on CI (`CI=true`), where it fails: there the real
condition must be tested."""

from __future__ import annotations

import os
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def tmpfs(path: Path, size: str, *, read_only: bool = False):
    """A tmpfs of `size` (e.g. "16m") mounted on `path` for the block; unmounted after."""
    path.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    try:
        out = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                             capture_output=True, text=True, timeout=30)
        problem = None if out.returncode == 0 else (out.stderr.strip() or f"exit {out.returncode}")
    except (OSError, subprocess.SubprocessError) as e:
        problem = str(e)
    if problem is not None:
        reason = f"cannot mount a tmpfs on {path}: {problem}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30)


def free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def fill(disk: Path, *, leave: int = 0) -> Path:
    """Write a filler file so that about `leave` bytes stay free on `disk` (with `leave=0`, to
    the last byte); delete it to free the space."""
    filler = disk / "filler"
    room = free_bytes(disk) - leave
    assert room > 0, (free_bytes(disk), leave)
    with open(filler, "wb", buffering=0) as fh:
        chunk = b"\0" * (1 << 20)
        try:
            while room > 0:
                fh.write(chunk[: min(room, len(chunk))])
                room -= len(chunk)
        except OSError:
            pass
        if leave == 0:
            for size in (65536, 4096, 512, 1):
                try:
                    while fh.write(b"\0" * size) == size:
                        pass
                except OSError:
                    pass
    return filler


def remount(path: Path, mode: str) -> None:
    """`mode` "ro" or "rw": a tmpfs of `tmpfs()` becomes read-only or writable again."""
    subprocess.run(["mount", "-o", f"remount,{mode}", str(path)], check=True, timeout=30)
