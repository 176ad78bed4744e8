"""Files a person hands sre-agent (an incident, a scenario, a kubeconfig), read within bounds.

A path can name anything: a FIFO (reading blocks until someone writes), `/dev/zero` (never ends), a
directory, or a 5 GB log mistaken for the incident. Only a regular file is opened, never more than its cap
is read, and every problem is a one-line `UserFileError` that names the file and, for size, the cap.

    text = read_user_file(path, limit=1 * MIB, what="incident files")
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

KIB = 1024
MIB = 1024 * KIB
_CHUNK = 64 * KIB

# What a non-regular file is, in a person's words.
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class UserFileError(ValueError):
    """A file that cannot be used; `problem` says why without the path, `str()` leads with the path."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


def size_words(n: int) -> str:
    """A byte count as a person reads it: `512 bytes`, `64 KiB`, `1 MiB`, `50.0 MiB`."""
    if n < KIB:
        return f"{n} bytes"
    if n < MIB:
        return f"{n / KIB:g} KiB" if n % KIB == 0 else f"{n / KIB:.1f} KiB"
    return f"{n / MIB:g} MiB" if n % MIB == 0 else f"{n / MIB:.1f} MiB"


def check_user_file(path: str | Path, *, limit: int, what: str = "these files") -> os.stat_result:
    """The file's stat when it is a regular file within `limit` bytes (`what` names the files the cap is
    for, e.g. "incident files"); UserFileError otherwise. Nothing is
    opened: opening a FIFO blocks, and opening some devices has effects of its own."""
    p = Path(path).expanduser()
    try:
        st = os.stat(p)
    except OSError as err:
        raise UserFileError(p, f"cannot read the file: {err.strerror or err}") from None
    if not stat.S_ISREG(st.st_mode):
        kind = next((words for test, words in _KINDS if test(st.st_mode)), "not a regular file")
        raise UserFileError(p, f"not a regular file: it is {kind}")
    if st.st_size > limit:
        raise UserFileError(p, f"the file is {size_words(st.st_size)}, over the {size_words(limit)} cap for {what}")
    return st


def read_user_bytes(path: str | Path, *, limit: int, what: str = "these files") -> bytes:
    """The bytes of a regular file of at most `limit` bytes (UserFileError otherwise)."""
    p = Path(path).expanduser()
    check_user_file(p, limit=limit, what=what)
    try:
        # O_NONBLOCK: should the path have become a FIFO since the check, opening it does not block.
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise UserFileError(p, f"cannot read the file: {err.strerror or err}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UserFileError(p, "not a regular file")
        chunks: list[bytes] = []
        size = 0
        # Files in /proc report size 0 whatever they hold: the cap holds for what is read, not what stat said.
        while size <= limit:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as err:
        raise UserFileError(p, f"cannot read the file: {err.strerror or err}") from None
    finally:
        os.close(fd)
    if size > limit:
        raise UserFileError(p, f"the file is over the {size_words(limit)} cap for {what}")
    return b"".join(chunks)


def read_user_file(path: str | Path, *, limit: int, what: str = "these files") -> str:
    """The UTF-8 text of a regular file of at most `limit` bytes (UserFileError otherwise)."""
    data = read_user_bytes(path, limit=limit, what=what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise UserFileError(
            Path(path).expanduser(), f"not a UTF-8 text file (byte 0x{data[err.start]:02x} at offset {err.start})"
        ) from None
