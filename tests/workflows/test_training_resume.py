"""``match train`` after an interruption: resumes from its checkpoints and ends bit-identical."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from exprlab.models import _matcher_training as mt
from exprlab.simulate import simulate_planted
from exprlab.workflows import _repurposing as rp


@pytest.fixture(scope="module")
def bench():
    return simulate_planted(
        n_diseases=20, n_drugs=40, n_genes=300, n_pathways=10, pathway_size=10, set_size=15, seed=5
    )


def _settings() -> rp.LearnedSettings:
    base = rp.LearnedSettings()
    short = replace(base.twotower, max_epochs=6, patience=10, steps_per_epoch=4)
    return replace(base, twotower=short)


def _weights(folder, k):
    return torch.load(folder / f"model_{k}.pt", weights_only=False)["state"]


def test_interrupted_training_resumes_to_the_same_weights(bench, tmp_path, monkeypatch):
    whole = rp.train_models(bench, tmp_path / "whole", n_seeds=2, settings=_settings())

    calls = {"n": 0}
    save = mt._save_checkpoint

    def save_then_stop(*args, **kwargs):
        save(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 9:  # the second member, after 3 of its epochs are checkpointed
            raise KeyboardInterrupt

    monkeypatch.setattr(mt, "_save_checkpoint", save_then_stop)
    out = tmp_path / "resumed"
    with pytest.raises(KeyboardInterrupt):
        rp.train_models(bench, out, n_seeds=2, settings=_settings())
    assert not out.exists()
    partial = tmp_path / ".resumed.partial"
    assert (partial / "model_0.pt").is_file() and (partial / "checkpoint_1.pt").is_file()

    monkeypatch.setattr(mt, "_save_checkpoint", save)
    calls["n"] = 0
    counted = {"n": 0}

    def counting(*args, **kwargs):
        counted["n"] += 1
        save(*args, **kwargs)

    monkeypatch.setattr(mt, "_save_checkpoint", counting)
    rp.train_models(bench, out, n_seeds=2, settings=_settings())
    assert counted["n"] == 3  # only the 3 missing epochs of member 1 were trained again
    assert not partial.exists()
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in whole.iterdir())
    for k in range(2):
        a, b = _weights(whole, k), _weights(out, k)
        assert a.keys() == b.keys()
        assert all(torch.equal(a[name], b[name]) for name in a)


def test_a_partial_training_of_another_model_is_started_over(bench, tmp_path):
    partial = tmp_path / ".m.partial"
    partial.mkdir()
    (partial / "work.json").write_text('{"arch": "paper"}')
    (partial / "checkpoint_0.pt").write_bytes(b"not this model's")
    out = rp.train_models(bench, tmp_path / "m", n_seeds=1, settings=_settings())
    assert sorted(p.name for p in out.iterdir()) == ["genes.txt", "model.json", "model_0.pt"]
    assert not partial.exists()
