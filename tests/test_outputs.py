"""Ownership of outputs: what may be replaced, with what, and what never is."""

from __future__ import annotations

import json
import os

import pytest

from exprlab._outputs import claim_output, lock_path, output_kind, output_lock, prepare_output, sidecar_path
from exprlab.errors import FileAccessError, InvalidParameterError


def _write(path, kind="score", text="a\tb\n"):
    with claim_output(path, kind=kind, force=True) as out:
        out.write_text(text)


def test_a_written_file_is_marked_and_replaced_only_with_force(tmp_path):
    table = tmp_path / "scores.tsv"
    _write(table)
    assert output_kind(table) == "score"
    marker = json.loads(sidecar_path(table).read_text())
    assert marker["size"] == len("a\tb\n") and len(marker["sha256"]) == 64
    with pytest.raises(FileAccessError, match="--force"):
        prepare_output(table, kind="score")
    prepare_output(table, kind="score", force=True)
    with pytest.raises(FileAccessError, match="exprlab score output, not an exprlab library"):
        prepare_output(table, kind="library", force=True)


def test_a_file_edited_since_is_no_longer_exprlabs(tmp_path):
    table = tmp_path / "scores.tsv"
    _write(table)
    table.write_text("a\tc\n")  # same size, other content
    assert output_kind(table) is None
    with pytest.raises(FileAccessError, match="did not write"):
        prepare_output(table, kind="score", force=True)


def test_a_failed_write_leaves_the_earlier_output_and_its_mark(tmp_path):
    table = tmp_path / "scores.tsv"
    _write(table)
    with pytest.raises(RuntimeError):
        with claim_output(table, kind="score", force=True):
            raise RuntimeError("the computation failed")
    assert table.read_text() == "a\tb\n"
    assert not lock_path(table).exists()


def test_folders_are_recognised_by_their_manifest(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"kind": "match-benchmark"}))
    model = tmp_path / "model"
    model.mkdir()
    (model / "metadata.json").write_text(json.dumps({"format": "exprlab-classifier"}))
    user = tmp_path / "user"
    user.mkdir()
    (user / "notes.txt").write_text("x")
    assert output_kind(run) == "match-benchmark" and output_kind(model) == "classifier"
    assert output_kind(user) is None
    prepare_output(run, kind="match-benchmark", folder=True, force=True)
    prepare_output(model, kind="classifier", folder=True, resume=True)
    with pytest.raises(FileAccessError, match="did not write"):
        prepare_output(user, kind="classifier", folder=True, force=True)
    empty = tmp_path / "empty"
    empty.mkdir()
    prepare_output(empty, kind="classifier", folder=True)  # made for the output: no --force needed


def test_a_folder_holding_only_a_killed_writers_temporary_is_taken_over(tmp_path):
    import subprocess
    import sys

    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead = int(ended.stdout)  # a process that has exited
    killed = tmp_path / "study"  # a run killed outright between creating its folder and its marker
    killed.mkdir()
    (killed / f".study.json.part-{dead}-0badcafe.json").write_text("")
    prepare_output(killed, kind="xai-study", folder=True)
    running = tmp_path / "running"  # the same temporary, but its writer is alive
    running.mkdir()
    (running / f".study.json.part-{os.getpid()}-0badcafe.json").write_text("")
    with pytest.raises(FileAccessError, match="did not write"):
        prepare_output(running, kind="xai-study", folder=True)
    mixed = tmp_path / "mixed"  # a dead writer's temporary beside a file of the user's
    mixed.mkdir()
    (mixed / f".study.json.part-{dead}-0badcafe.json").write_text("")
    (mixed / ".notes").write_text("mine")
    with pytest.raises(FileAccessError, match="did not write"):
        prepare_output(mixed, kind="xai-study", folder=True)


def test_inputs_and_folders_holding_them_are_refused(tmp_path):
    data = tmp_path / "proj" / "x.h5ad"
    data.parent.mkdir()
    data.write_text("data")
    with pytest.raises(InvalidParameterError, match="is the input"):
        prepare_output(data, kind="matrix", inputs=[data], force=True)
    with pytest.raises(InvalidParameterError, match="holds the input"):
        prepare_output(tmp_path / "proj", kind="classifier", inputs=[data], folder=True, force=True)
    with pytest.raises(InvalidParameterError, match="holds the input"):
        prepare_output(tmp_path, kind="classifier", inputs=[data], folder=True, force=True)


def test_a_held_lock_refuses_and_a_dead_writers_lock_is_taken_over(tmp_path):
    out = tmp_path / "lib.h5"
    with output_lock(out, "exprlab library build a -o lib.h5"):
        with pytest.raises(FileAccessError, match=f"pid {os.getpid()}"):
            with output_lock(out):
                pass
    assert not lock_path(out).exists()
    import socket
    import subprocess
    import sys

    pid = int(
        subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True).stdout
    )
    lock_path(out).write_text(json.dumps({"pid": pid, "host": socket.gethostname()}))
    with output_lock(out) as lock:
        assert json.loads(lock.read_text())["pid"] == os.getpid()
    assert not lock_path(out).exists()


def test_a_lock_appears_with_its_record_and_a_killed_takers_remains_are_cleared(tmp_path, monkeypatch):
    import subprocess
    import sys

    import exprlab._outputs as outputs

    out = tmp_path / "lib.h5"
    seen = []
    real_link = os.link

    def link(src, dst):  # the lock's name appears only here: the record must already be complete
        seen.append(json.loads(open(src).read()))
        return real_link(src, dst)

    monkeypatch.setattr(outputs.os, "link", link)
    with output_lock(out, "exprlab x") as lock:
        assert seen == [json.loads(lock.read_text())] and seen[0]["pid"] == os.getpid()
        assert sorted(p.name for p in tmp_path.iterdir()) == [".lib.h5.lock"]  # no temporary left
    dead = int(
        subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True).stdout
    )
    # what a run killed outright leaves: its temporary record; an earlier release: an empty lock
    (tmp_path / f"..lib.h5.lock.part-{dead}-0a1b2c3d").write_text("{}")
    lock_path(out).write_text("")
    with pytest.raises(FileAccessError, match="another exprlab run"):  # empty and new: maybe mid-write
        with output_lock(out):
            pass
    old = lock_path(out).stat().st_mtime - 60
    os.utime(lock_path(out), (old, old))
    with output_lock(out):
        pass
    assert list(tmp_path.iterdir()) == []


def test_without_hard_links_the_lock_is_created_then_written(tmp_path, monkeypatch):
    import errno

    import exprlab._outputs as outputs

    def no_link(src, dst):
        raise OSError(errno.EPERM, "hard links not supported")

    monkeypatch.setattr(outputs.os, "link", no_link)
    out = tmp_path / "lib.h5"
    with output_lock(out) as lock:
        assert json.loads(lock.read_text())["pid"] == os.getpid()
        with pytest.raises(FileAccessError, match=f"pid {os.getpid()}"):
            with output_lock(out):
                pass
    assert list(tmp_path.iterdir()) == []


def test_attributions_an_earlier_release_marked_are_replaced_by_explain_with_force(tmp_path):
    ig = tmp_path / "ig.h5ad"
    _write(ig, kind="attributions")  # the mark `exprlab explain --out FILE.h5ad` wrote before
    with pytest.raises(FileAccessError, match="--force"):
        prepare_output(ig, kind="explanation")
    prepare_output(ig, kind="explanation", force=True)
    with pytest.raises(FileAccessError, match="not an exprlab score output"):
        prepare_output(ig, kind="score", force=True)  # still not any kind's output
