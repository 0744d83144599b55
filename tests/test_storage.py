import json
import os
import subprocess
import sys

import pytest

from sercompress.errors import RunError
from sercompress.storage import (
    atomic_path, atomic_write_json, content_hash, directory_lock, is_done, mark_done,
)


def test_atomic_write_leaves_no_temp_files(tmp_path):
    p = atomic_write_json(tmp_path / "a" / "x.json", {"k": 1})
    assert json.loads(p.read_text()) == {"k": 1}
    assert sorted(os.listdir(p.parent)) == ["x.json"]


def test_atomic_write_respects_umask(tmp_path):
    old = os.umask(0o022)
    try:
        p = atomic_write_json(tmp_path / "x.json", {})
    finally:
        os.umask(old)
    assert p.stat().st_mode & 0o777 == 0o644


def test_atomic_path_does_not_publish_on_failure(tmp_path):
    target = tmp_path / "model.bin"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("killed mid-write")
    assert not target.exists()
    assert os.listdir(tmp_path) == []


def test_atomic_path_replaces_directory(tmp_path):
    target = tmp_path / "saved"
    for content in (b"one", b"two"):
        with atomic_path(target) as tmp:
            tmp.mkdir()
            (tmp / "f").write_bytes(content)
    assert (target / "f").read_bytes() == b"two"


def test_content_hash_is_order_independent_for_dicts():
    assert content_hash({"a": 1, "b": 2}) == content_hash({"b": 2, "a": 1})
    assert content_hash({"a": 1}) != content_hash({"a": 2})


def test_done_marker(tmp_path):
    assert not is_done(tmp_path)
    mark_done(tmp_path, {"ok": True})
    assert is_done(tmp_path)


def test_lock_refuses_second_live_holder(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / ".lock").write_text(str(holder.pid))
        with pytest.raises(RunError, match=str(holder.pid)):
            with directory_lock(tmp_path):
                pass
    finally:
        holder.kill()
        holder.wait()


def test_stale_lock_is_taken_over(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / ".lock").write_text(str(dead.pid))
    with directory_lock(tmp_path) as lock:
        assert lock.read_text() == str(os.getpid())
    assert not (tmp_path / ".lock").exists()
