"""`exprlab datasets` on the command line."""

from __future__ import annotations

from exprlab.cli import main
from exprlab.datasets import DATASETS


def test_datasets_command_lists_every_dataset(data_dir, capsys):
    main(["datasets"])
    out = capsys.readouterr().out
    for info in DATASETS:
        assert info.name.split("(")[0] in out
    assert "ABSENT" not in out
    assert f"{len(DATASETS)} of {len(DATASETS)} datasets present." in out
    assert "6100 x 12317" in out  # shape column (cmap02)


def test_datasets_command_reports_absent(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EXPRLAB_DATA", str(tmp_path))
    main(["datasets", "--missing", "--files"])
    out = capsys.readouterr().out
    assert "ABSENT" in out and "cmap02/CmapUp100.gmt.xz" in out
    assert f"0 of {len(DATASETS)} datasets present." in out
