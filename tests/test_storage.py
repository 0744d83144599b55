import json
import os
import subprocess
import sys

import pytest

from sercompress.errors import RunError
from sercompress.storage import (
    atomic_path,
    atomic_write_json,
    content_hash,
    directory_lock,
    is_done,
    mark_done,
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
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
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


def test_link_tree_publishes_a_finished_directory_as_links(tmp_path):
    from sercompress.storage import link_tree

    src = tmp_path / "store" / "entry"
    atomic_write_json(src / "record.json", {"a": 1})
    (src / ".lock").write_text("123")
    with pytest.raises(RunError, match="not finished"):
        link_tree(src, tmp_path / "run" / "entry")
    mark_done(src)
    dest = link_tree(src, tmp_path / "run" / "entry")
    assert sorted(p.name for p in dest.iterdir()) == ["DONE", "record.json"]
    assert (dest / "record.json").stat().st_ino == (src / "record.json").stat().st_ino
    # the store's file replaced (as every writer does): the run directory keeps its own
    atomic_write_json(src / "record.json", {"a": 2})
    assert json.loads((dest / "record.json").read_text()) == {"a": 1}
    assert link_tree(src, dest) == dest  # finished: kept as it is


def test_store_entry_waits_for_the_process_computing_it(tmp_path):
    """A second process asking for an entry another one is computing waits, then finds it done."""
    import time

    from sercompress.storage import store_entry

    entry = tmp_path / "store" / "entry"
    code = ("import sys, time; from pathlib import Path; from sercompress.storage import store_entry, mark_done\n"
            "with store_entry(Path(sys.argv[1])) as e:\n"
            "    Path(sys.argv[1] + '.started').touch(); time.sleep(1.5); mark_done(e)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(entry)])
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "store" / "entry.started").exists():
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        with store_entry(entry):
            assert is_done(entry)  # we got in only after the other process had finished it
    finally:
        proc.wait(timeout=60)


def test_directory_lock_waits_for_a_live_holder_then_refuses(tmp_path, monkeypatch):
    from sercompress import storage

    lock = tmp_path / ".lock"
    lock.write_text("1")  # pid 1 is alive
    monkeypatch.setattr(storage, "_LOCK_POLL_S", 0.05)
    with pytest.raises(RunError, match="another process"), directory_lock(tmp_path, wait_s=0.2):
        pass
    lock.unlink()
    with directory_lock(tmp_path, wait_s=0.2):
        assert lock.read_text() == str(os.getpid())


def test_default_store_follows_the_environment(tmp_path, monkeypatch):
    from sercompress.storage import default_store

    monkeypatch.setenv("SERCOMPRESS_STORE", str(tmp_path / "s"))
    assert default_store() == tmp_path / "s"
    monkeypatch.delenv("SERCOMPRESS_STORE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "c"))
    assert default_store() == tmp_path / "c" / "sercompress" / "store"
