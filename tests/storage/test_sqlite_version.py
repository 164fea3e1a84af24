"""The SQLite library's version is checked before any database work."""

from __future__ import annotations

import sqlite3

import pytest

from mindkeeper.errors import StartupError
from mindkeeper.storage.location import SQLITE_MIN_VERSION, check_sqlite_version


def test_this_python_links_a_recent_enough_sqlite() -> None:
    check_sqlite_version()
    assert sqlite3.sqlite_version_info >= SQLITE_MIN_VERSION


def test_an_older_sqlite_is_one_clear_error() -> None:
    with pytest.raises(StartupError, match=r"SQLite 3\.38\.0 or newer is needed.*3\.37\.2"):
        check_sqlite_version((3, 37, 2))
    check_sqlite_version(SQLITE_MIN_VERSION)
