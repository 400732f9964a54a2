"""The cache on one machine (blog/filecache.py): Django's file cache, its
folder listed once every CULL_EVERY writes, still bounded past MAX_ENTRIES,
an entry replaced without renaming a file over another, a count's expiry
kept when it is incremented."""

import os
import time
from unittest import mock

import pytest

from blog import ratelimit
from blog.filecache import FileCache


def file_cache(folder, max_entries: int) -> FileCache:
    return FileCache(str(folder), {"OPTIONS": {"MAX_ENTRIES": max_entries}})


def test_the_file_cache_lists_its_folder_once_every_cull_every_writes(tmp_path):
    cache = file_cache(tmp_path, 10_000)
    with mock.patch.object(
        cache, "_list_cache_files", wraps=cache._list_cache_files
    ) as listing:
        for number in range(2 * FileCache.CULL_EVERY + 1):
            cache.set(f"key-{number}", number)
    assert listing.call_count == 3
    assert cache.get("key-7") == 7


def test_the_file_cache_is_still_culled_past_max_entries(tmp_path, monkeypatch):
    monkeypatch.setattr(FileCache, "CULL_EVERY", 5)
    cache = file_cache(tmp_path, 20)
    for number in range(200):
        cache.set(f"key-{number}", number)
    assert len(list(tmp_path.glob("*.djcache"))) <= 20 + 5
    assert cache.get("key-199") == 199


def test_the_file_cache_keeps_each_key_in_its_own_file_however_often_asked(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(FileCache, "KNOWN_NAMES", 3)
    cache = file_cache(tmp_path, 10_000)
    for round in range(3):
        for number in range(5):
            cache.set(f"key-{number}", (round, number))
    assert len(list(tmp_path.glob("*.djcache"))) == 5
    assert [cache.get(f"key-{n}") for n in range(5)] == [(2, n) for n in range(5)]
    assert cache.get("key-1", version=2) is None


def test_an_entry_is_replaced_without_renaming_a_file_over_its_file(
    tmp_path, monkeypatch
):
    """Renamed over a file, a new file is written to disk first on ext4 (0.2
    to 3 ms); renamed to a free name, it is not."""
    cache = file_cache(tmp_path, 10_000)
    cache.set("count", 1, timeout=60)
    over_a_file = []
    rename = os.rename

    def noting_rename(source, target):
        over_a_file.append(os.path.exists(target))
        rename(source, target)

    monkeypatch.setattr(os, "rename", noting_rename)
    cache.set("count", 2, timeout=60)
    cache.incr("count")
    assert over_a_file == [False, False]
    assert cache.get("count") == 3
    assert len(list(tmp_path.iterdir())) == 1  # no temporary file left


def later(seconds: float):
    return mock.patch("time.time", return_value=time.time() + seconds)


def test_an_incremented_entry_keeps_its_expiry(tmp_path):
    """Django's incr() wrote the count back with the default timeout."""
    cache = file_cache(tmp_path, 10_000)
    cache.set("forever", 1, timeout=None)
    cache.set("an-hour", 1, timeout=3600)
    cache.set("a-minute", 1, timeout=60)
    for key in ("forever", "an-hour", "a-minute"):
        assert cache.incr(key) == 2
    assert cache.decr("an-hour") == 1
    with later(400):  # past the default timeout, 300 s
        assert cache.get_many(["forever", "an-hour", "a-minute"]) == {
            "forever": 2,
            "an-hour": 1,
        }
    with later(3601):
        assert cache.get("forever") == 2
        assert cache.get("an-hour") is None


def test_a_missing_or_expired_entry_cannot_be_incremented(tmp_path):
    cache = file_cache(tmp_path, 10_000)
    cache.set("a-minute", 1, timeout=60)
    with pytest.raises(ValueError):
        cache.incr("never-set")
    with later(61), pytest.raises(ValueError):
        cache.incr("a-minute")


def test_on_the_file_cache_a_rate_limit_holds_for_its_whole_window(settings, tmp_path):
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "blog.filecache.FileCache", "LOCATION": str(tmp_path)},
    }
    assert ratelimit.within_limit("test", "192.0.2.1", 1, 3600)
    with later(400):
        assert not ratelimit.within_limit("test", "192.0.2.1", 1, 3600)
