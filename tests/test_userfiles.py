"""Files a person names are read only when they are regular files, and never beyond their cap."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from orchestrator.userfiles import KIB, MIB, UserFileError, read_user_file, size_words


def test_a_regular_file_within_its_cap_is_read(tmp_path: Path) -> None:
    path = tmp_path / "incident.yaml"
    path.write_text("kind: Incident\n")
    assert read_user_file(path, limit=KIB) == "kind: Incident\n"


def test_a_fifo_is_refused_without_opening_it(tmp_path: Path) -> None:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    outcome: list[BaseException | str] = []

    def read() -> None:
        try:
            outcome.append(read_user_file(path, limit=KIB))
        except UserFileError as err:
            outcome.append(err)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(5)
    assert not reader.is_alive(), "reading a FIFO blocked"
    assert isinstance(outcome[0], UserFileError)
    assert str(outcome[0]) == f"{path}: not a regular file: it is a FIFO (named pipe)"


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/dev/zero", "not a regular file: it is a character device"),
        ("/", "not a regular file: it is a directory"),
        ("/proc/self/mem", "cannot read the file: Input/output error"),
    ],
)
def test_what_is_not_a_readable_regular_file_is_one_line(path: str, problem: str) -> None:
    with pytest.raises(UserFileError) as caught:
        read_user_file(path, limit=MIB)
    assert caught.value.problem == problem


def test_the_cap_holds_for_files_whose_size_says_nothing() -> None:
    # /proc files report size 0, whatever they hold: the cap is on what is read.
    assert os.stat("/proc/self/status").st_size == 0
    assert "Name:" in read_user_file("/proc/self/status", limit=64 * KIB)
    with pytest.raises(UserFileError) as caught:
        read_user_file("/proc/self/status", limit=16, what="incident files")
    assert caught.value.problem == "the file is over the 16 bytes cap for incident files"


def test_size_and_encoding_problems_name_the_cap_and_the_byte(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as fh:
        fh.truncate(50 * MIB)
    with pytest.raises(UserFileError) as caught:
        read_user_file(big, limit=MIB, what="incident files")
    assert caught.value.problem == "the file is 50 MiB, over the 1 MiB cap for incident files"
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"caf\xe9\n")
    with pytest.raises(UserFileError) as caught:
        read_user_file(latin, limit=MIB)
    assert caught.value.problem == "not a UTF-8 text file (byte 0xe9 at offset 3)"


def test_size_words() -> None:
    assert [size_words(n) for n in (16, 1536, 64 * KIB, 4 * MIB, int(1.5 * MIB))] == [
        "16 bytes",
        "1.5 KiB",
        "64 KiB",
        "4 MiB",
        "1.5 MiB",
    ]
