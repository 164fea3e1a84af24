"""The local master key and the keys derived from it (the keyring's default mode)."""

from __future__ import annotations

import base64
import multiprocessing
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from mindkeeper.core.ports.agents import SealBroken
from mindkeeper.errors import Forbidden
from mindkeeper.providers.keyring import load_keyring
from mindkeeper.providers.master_key import create_master_key, master_key_path, read_master_key

KEY_A = "arn:aws:kms:us-east-1:000000000000:key/aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
KEY_B = "arn:aws:kms:us-east-1:000000000000:key/bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
PROCESSES = 4


def _race(path: str, barrier: Any, results: Any) -> None:
    barrier.wait()
    results.put(create_master_key(Path(path)).hex())


def test_processes_starting_together_agree_on_one_master_key(tmp_path: Path) -> None:
    path = master_key_path(tmp_path / "data")
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    workers = [
        context.Process(target=_race, args=(str(path), barrier, results)) for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    keys = {results.get(timeout=60) for _ in workers}
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert keys == {path.read_bytes().hex()}
    assert [p.name for p in path.parent.iterdir()] == ["master.key"]  # no temporary left
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_the_keys_directory_is_private_even_in_a_shared_data_directory(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    (data_dir / "keys").mkdir(parents=True, mode=0o755)
    os.chmod(data_dir / "keys", 0o755)
    path = master_key_path(data_dir)
    key = create_master_key(path)
    assert len(key) == 32 and read_master_key(path) == key
    assert create_master_key(path) == key  # an existing key is kept
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_each_key_arn_gets_its_own_data_key(tmp_path: Path) -> None:
    path = master_key_path(tmp_path)
    keyring = load_keyring({}, None, path)
    assert keyring.knows(KEY_A) and keyring.knows(KEY_B)
    assert not keyring.knows("alias/not-an-arn")
    sealed = keyring.seal(KEY_A, b"secret", b"ctx")
    assert path.exists()
    assert keyring.open(KEY_A, sealed, b"ctx") == b"secret"
    with pytest.raises(SealBroken):
        keyring.open(KEY_B, sealed, b"ctx")
    with pytest.raises(SealBroken):
        keyring.open(KEY_A, sealed, b"other context")
    # Another process with the same master key file derives the same keys.
    assert load_keyring({}, None, path).open(KEY_A, sealed, b"ctx") == b"secret"


def test_a_configured_keyring_never_derives_nor_creates_a_master_key(tmp_path: Path) -> None:
    path = master_key_path(tmp_path)
    strict = load_keyring({KEY_A: base64.b64encode(os.urandom(32)).decode()}, None, path)
    assert strict.knows(KEY_A) and not strict.knows(KEY_B)
    with pytest.raises(Forbidden, match="not available"):
        strict.seal(KEY_B, b"x", b"ctx")
    assert not path.exists()
    empty_file = tmp_path / "keyring.json"
    empty_file.write_text("{}")
    assert not load_keyring({}, empty_file, path).knows(KEY_A)  # a file, even empty, is strict
    # What a default-mode server sealed, a configured one opens while the master key exists.
    sealed = load_keyring({}, None, path).seal(KEY_B, b"x", b"ctx")
    assert strict.open(KEY_B, sealed, b"ctx") == b"x"
    path.unlink()
    with pytest.raises(Forbidden, match="not available"):
        load_keyring({KEY_A: base64.b64encode(os.urandom(32)).decode()}, None, path).open(
            KEY_B, sealed, b"ctx"
        )


def test_an_unusable_master_key_is_refused_as_not_available(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    with pytest.raises(Forbidden, match="not available"):
        load_keyring({}, None, master_key_path(blocked)).seal(KEY_A, b"x", b"ctx")
    short = master_key_path(tmp_path / "data")
    short.parent.mkdir(parents=True)
    short.write_bytes(b"too short")
    with pytest.raises(ValueError, match="not a master key"):
        read_master_key(short)
    with pytest.raises(Forbidden, match="not available"):
        load_keyring({}, None, short).seal(KEY_A, b"x", b"ctx")


def test_missing_parents_of_the_data_directory_are_created_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "home" / ".local" / "share" / "mindkeeper"
    create_master_key(master_key_path(data_dir))
    for directory in (tmp_path / "home", data_dir.parent, data_dir, data_dir / "keys"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
