"""Training loop for the drug-disease matchers: balanced sampling, early stopping, checkpoints.

* **Class-balanced sampling** (docs/methods.md §2): each batch draws about half positive pairs (an
  indication, then one contrast of its disease and one perturbation of its drug, uniformly) and
  half negatives (a training disease and a training drug that are not a known indication).
* **Early stopping on validation mean average precision** (per-disease AP over the validation
  candidates, averaged), not on pair-level ROC-AUC: the benchmark ranks drugs per disease, and
  pair-level AUC rewards separating popular from unpopular drugs across diseases. Training stops
  after ``patience`` epochs without improvement and returns the best epoch's weights.
* **Adam, BCE on logits, gradient-norm clipping at 1.0** as the paper.
* **One thread by default** (``threads``): batches of a few hundred sparse pairs gain little
  from a second thread, and on a shared machine thread oversubscription costs far more.
* **Checkpoints** after every epoch (model, optimizer, sampler RNG state, epoch, best weights,
  history), written atomically; a run started again with the same checkpoint file continues
  where it stopped and ends with bit-identical weights to an uninterrupted run.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
from torch.nn import functional as F

from exprlab._atomic import atomic_path
from exprlab._progress import make_progress
from exprlab._validation import check_choice, check_count, check_fraction
from exprlab.errors import FileAccessError, FormatError, InputDataError, InvalidParameterError
from exprlab.evaluate import Fold, mean_average_precision
from exprlab.models._matchers import (
    MATCHERS,
    Matcher,
    MatcherArch,
    PairData,
    _inputs,
    build_matcher,
    rank_drugs,
)
from exprlab.models._threads import torch_threads


@dataclass
class TrainConfig:
    """Options of one matcher training run (docs/methods.md §2).

    Saved in checkpoints: a resume must use the same options, except ``max_epochs``, which may
    grow (to extend a run).

    Parameters
    ----------
    arch
        Matcher architecture: ``paper`` (:class:`PaperMatcher`) or ``twotower``
        (:class:`ReversalTwoTower`).
    options
        Keyword options of the architecture (e.g. ``hidden``, ``dim``).
    max_epochs
        Upper bound on epochs.
    steps_per_epoch
        Optimiser steps (batches) per epoch.
    batch_size
        Pairs per batch.
    lr
        Adam learning rate.
    weight_decay
        Adam weight decay.
    clip
        Gradient-norm clip.
    patience
        Epochs without a better validation MAP before stopping.
    pos_fraction
        Share of positive pairs in each batch, in (0, 1).
    seed
        Seed of weights and batch sampling.
    threads
        Torch threads during training.
    negatives
        How negative drugs are drawn: ``uniform`` over the training drugs, or ``popularity``
        (in proportion to their number of training indications, so that a drug is as often a
        negative as a positive and the model cannot score it by popularity alone).
    smooth
        Early stopping follows the mean validation MAP of the last ``smooth`` epochs (1 = the
        raw curve); the chosen weights are those of the best epoch of the smoothed curve.
    """

    arch: MatcherArch = "paper"
    options: dict = field(default_factory=dict)
    max_epochs: int = 30
    steps_per_epoch: int = 16
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.0
    clip: float = 1.0
    patience: int = 5
    pos_fraction: float = 0.5
    seed: int = 0
    threads: int = 1
    negatives: Literal["uniform", "popularity"] = "uniform"
    smooth: int = 1

    def __post_init__(self) -> None:
        check_choice(self.arch, "arch", MATCHERS)
        check_choice(self.negatives, "negatives", ("uniform", "popularity"))
        for name in ("max_epochs", "steps_per_epoch", "batch_size", "patience", "smooth"):
            check_count(getattr(self, name), name, minimum=1)
        check_fraction(self.pos_fraction, "pos_fraction", closed="neither")


class BalancedPairSampler:
    """Draws (contrast row, instance row, label) batches with a fixed share of positives."""

    def __init__(
        self,
        data: PairData,
        positives: pd.DataFrame,
        diseases,
        drugs,
        *,
        pos_fraction: float = 0.5,
        seed: int = 0,
        negatives: str = "uniform",
    ):
        self.rng = np.random.default_rng(seed)
        self.pos_fraction = pos_fraction
        self.negatives = negatives
        self._dis_rows = _rows_by_name(data.contrast_disease, diseases)
        self._drug_rows = _rows_by_name(data.instance_drug, drugs)
        self.diseases = np.array(sorted(self._dis_rows))
        self.drugs = np.array(sorted(self._drug_rows))
        if len(self.diseases) == 0 or len(self.drugs) == 0:
            raise InputDataError(
                f"{len(self.diseases)} training diseases and {len(self.drugs)} training drugs have "
                "signatures",
                where="training sampler",
                fix="check that the training fold's diseases and drugs have signatures",
            )
        keep = positives["disease"].isin(self._dis_rows) & positives["drug"].isin(self._drug_rows)
        pos = positives[keep]
        if pos.empty:
            raise InputDataError(
                "no training indication has both a disease and a drug signature",
                where="training sampler",
                fix="check the indication table against the signatures",
            )
        self.pos_disease = np.searchsorted(self.diseases, pos["disease"].to_numpy(str))
        self.pos_drug = np.searchsorted(self.drugs, pos["drug"].to_numpy(str))
        self._pos_codes = np.unique(self.pos_disease * len(self.drugs) + self.pos_drug)
        self._dis_lists = [self._dis_rows[d] for d in self.diseases]
        self._drug_lists = [self._drug_rows[d] for d in self.drugs]

    def _pick(self, lists, which: np.ndarray) -> np.ndarray:
        sizes = np.array([len(lists[w]) for w in which])
        offs = (self.rng.random(len(which)) * sizes).astype(np.int64)
        return np.array([lists[w][o] for w, o in zip(which, offs, strict=True)], dtype=np.int64)

    def sample(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``n`` pairs: contrast rows, instance rows and 0/1 labels (positives first)."""
        n_pos = int(round(n * self.pos_fraction))
        k = self.rng.integers(0, len(self.pos_disease), size=n_pos)
        dis = list(self.pos_disease[k])
        drg = list(self.pos_drug[k])
        n_neg = n - n_pos
        neg_d = np.empty(0, dtype=np.int64)
        neg_s = np.empty(0, dtype=np.int64)
        tries = 0
        while len(neg_d) < n_neg:
            d = self.rng.integers(0, len(self.diseases), size=2 * n_neg)
            tries += 1
            if self.negatives == "popularity" and tries <= 20:  # then uniform, if nearly all are positives
                s = self.pos_drug[self.rng.integers(0, len(self.pos_drug), size=2 * n_neg)]
            else:
                s = self.rng.integers(0, len(self.drugs), size=2 * n_neg)
            ok = ~np.isin(d * len(self.drugs) + s, self._pos_codes)
            neg_d, neg_s = np.r_[neg_d, d[ok]], np.r_[neg_s, s[ok]]
        dis += list(neg_d[:n_neg])
        drg += list(neg_s[:n_neg])
        c_rows = self._pick(self._dis_lists, np.asarray(dis))
        i_rows = self._pick(self._drug_lists, np.asarray(drg))
        labels = np.r_[np.ones(n_pos), np.zeros(n_neg)].astype(np.float32)
        return c_rows, i_rows, labels


def _rows_by_name(names: np.ndarray, keep) -> dict[str, np.ndarray]:
    keep = set(map(str, keep))
    out: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        if name in keep:
            out.setdefault(name, []).append(i)
    return {k: np.asarray(v) for k, v in out.items()}


@dataclass
class TrainResult:
    """A trained matcher (best validation epoch), its history and the chosen epoch.

    Parameters
    ----------
    model
        The matcher with the weights of its best validation epoch, in eval mode.
    history
        One row per epoch: ``epoch``, ``loss``, ``val_map``.
    best_epoch
        The epoch whose weights were kept.
    best_val_map
        Its validation MAP.
    """

    model: Matcher
    history: pd.DataFrame
    best_epoch: int
    best_val_map: float


def select_genes(
    data: PairData,
    *,
    contrast_rows: np.ndarray,
    instance_rows: np.ndarray,
    max_genes: int = 2000,
    min_count: int = 2,
) -> np.ndarray:
    """Columns of the model's gene space, chosen from training signatures only.

    A gene is kept when it is non-zero in at least ``min_count`` training drug perturbations and
    in at least ``min_count`` training disease contrasts (a gene seen on one side only cannot
    carry a drug-disease relation that a model can learn), ranked by the geometric mean of the two
    counts, and the ``max_genes`` most frequent are kept (the input layer's width bounds the
    training cost; see the user guide for the choice).

    Parameters
    ----------
    data
        Signatures over the full gene space.
    contrast_rows
        Training disease contrasts (rows of ``data.diseases``).
    instance_rows
        Training drug perturbations (rows of ``data.drugs``).
    max_genes
        Most genes kept.
    min_count
        Least number of training signatures of each side listing a kept gene.

    Returns
    -------
    numpy.ndarray
        Sorted column indices of the kept genes.
    """
    dis = data.diseases.matrix[np.asarray(contrast_rows)]
    drg = data.drugs.matrix[np.asarray(instance_rows)]
    n_dis = np.asarray((dis != 0).sum(axis=0)).ravel()
    n_drg = np.asarray((drg != 0).sum(axis=0)).ravel()
    ok = (n_dis >= min_count) & (n_drg >= min_count)
    if not ok.any():
        raise InputDataError(
            "no gene is listed in both the training disease and drug signatures",
            where="gene space",
            fix="check that disease and drug signatures use the same gene identifiers",
        )
    strength = np.sqrt(n_dis.astype(float) * n_drg) * ok
    order = np.lexsort((np.arange(len(strength)), -strength))[: int(ok.sum())]
    return np.sort(order[:max_genes])


def _validation_map(model: Matcher, data: PairData, val: Fold) -> float:
    scores = rank_drugs(model, data, val.test_diseases, val.test_drugs)
    return mean_average_precision(scores, val.positives(), candidates=val.candidates())


def train_matcher(
    data: PairData,
    train: Fold,
    val: Fold,
    config: TrainConfig | None = None,
    *,
    checkpoint: str | Path | None = None,
    on_epoch: Callable[[int, float], None] | None = None,
) -> TrainResult:
    """Train one matcher on ``train``'s indications with early stopping on ``val``'s MAP.

    Parameters
    ----------
    data
        Signatures in the model's gene space (see :func:`select_genes`) plus pair features.
    train
        A fold whose ``train`` pairs, ``train_diseases`` and ``train_drugs`` are used.
    val
        A fold whose test part is the validation set (an inner validation split; never the
        outer test fold).
    config
        :class:`TrainConfig`.
    checkpoint
        File written after every epoch; if it exists the run resumes from it.
    on_epoch
        Called with (epoch, validation MAP) after each epoch (progress reporting).

    Returns
    -------
    TrainResult
        The model at its best validation epoch and the training history.
    """
    cfg = config or TrainConfig()
    with torch_threads(max(1, int(cfg.threads))):
        return _train(data, train, val, cfg, checkpoint, on_epoch)


def _train(data, train, val, cfg: TrainConfig, checkpoint, on_epoch) -> TrainResult:
    torch.manual_seed(cfg.seed)
    options = dict(cfg.options)
    if cfg.arch == "twotower":
        options.setdefault("n_extras", data.n_extras)
    model = build_matcher(cfg.arch, len(data.genes), **options)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sampler = BalancedPairSampler(
        data,
        train.train,
        train.train_diseases,
        train.train_drugs,
        pos_fraction=cfg.pos_fraction,
        seed=cfg.seed,
        negatives=cfg.negatives,
    )
    state: dict[str, Any] = {"epoch": 0, "best": -np.inf, "best_epoch": 0, "bad": 0, "history": []}
    best_weights = copy.deepcopy(model.state_dict())
    path = Path(checkpoint) if checkpoint is not None else None
    if path is not None and path.exists():
        saved = _load_checkpoint(path)
        # checkpoints written before the option was named ``arch`` call it ``architecture``
        old = {
            ("arch" if k == "architecture" else k): v for k, v in saved["config"].items() if k != "max_epochs"
        }
        new = {k: v for k, v in asdict(cfg).items() if k != "max_epochs"}
        if old != new:
            raise InvalidParameterError(
                "the checkpoint was written with other training options",
                where=path,
                fix="resume with the same options, or delete the checkpoint to start over",
            )
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        sampler.rng.bit_generator.state = saved["rng"]
        if "torch_rng" in saved:  # dropout draws continue where the interrupted run stopped
            torch.set_rng_state(saved["torch_rng"])
        best_weights = saved["best_weights"]
        state = saved["state"]
    extras = None if data.extras is None else torch.from_numpy(data.extras)
    progress = make_progress()
    task = progress.add_task(f"training {cfg.arch}", total=cfg.max_epochs, completed=state["epoch"])
    with progress:
        while state["epoch"] < cfg.max_epochs and state["bad"] < cfg.patience:
            _epoch(model, opt, sampler, data, extras, cfg, state)
            val_map = _validation_map(model, data, val)
            if _record(state, val_map, cfg.smooth):
                best_weights = copy.deepcopy(model.state_dict())
            if path is not None:
                _save_checkpoint(path, model, opt, sampler, best_weights, state, cfg)
            if on_epoch is not None:
                on_epoch(state["epoch"], val_map)
            progress.advance(task)
    model.load_state_dict(best_weights)
    model.eval()
    return TrainResult(model, pd.DataFrame(state["history"]), int(state["best_epoch"]), float(state["best"]))


def _epoch(model, opt, sampler, data, extras, cfg: TrainConfig, state: dict) -> None:
    """One epoch of ``steps_per_epoch`` mini-batches; appends its mean loss to the history."""
    model.train()
    losses = []
    for _ in range(cfg.steps_per_epoch):
        c_rows, i_rows, y = sampler.sample(cfg.batch_size)
        hd = model.encode_disease(data_rows(model, data, "diseases").bag(c_rows))
        hs = model.encode_drug(data_rows(model, data, "drugs").bag(i_rows))
        ex = None
        if extras is not None and model.config.get("n_extras", 0):
            ex = extras[:, torch.from_numpy(c_rows), torch.from_numpy(i_rows)]
        loss = F.binary_cross_entropy_with_logits(model.pair_logits(hd, hs, ex), torch.from_numpy(y))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
        opt.step()
        losses.append(float(loss.detach()))
    state["epoch"] += 1
    state["history"].append({"epoch": state["epoch"], "loss": float(np.mean(losses))})


def _record(state: dict, val_map: float, smooth: int) -> bool:
    """Store the epoch's validation MAP; whether its smoothed value is the best so far."""
    state["history"][-1]["val_map"] = val_map
    smoothed = float(np.mean([h["val_map"] for h in state["history"][-smooth:]]))
    if smoothed > state["best"]:
        state.update(best=smoothed, best_epoch=state["epoch"], bad=0)
        return True
    state["bad"] += 1
    return False


def data_rows(model: Matcher, data: PairData, side: str):
    """The (possibly normalised) rows of one side as the model reads them.

    Parameters
    ----------
    model
        The matcher (its ``normalize_inputs`` decides the normalisation).
    data
        The signatures.
    side
        ``diseases`` or ``drugs``.

    Returns
    -------
    SparseRows
        The rows of that side.
    """
    dis, drg = _inputs(data, model.normalize_inputs)
    return dis if side == "diseases" else drg


def _save_checkpoint(path, model, opt, sampler, best_weights, state, cfg) -> None:
    blob = {
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "rng": sampler.rng.bit_generator.state,
        "torch_rng": torch.get_rng_state(),
        "best_weights": best_weights,
        "state": state,
        "config": asdict(cfg),
    }
    with atomic_path(path) as tmp:
        torch.save(blob, tmp)


def _load_checkpoint(path: Path) -> dict:
    try:
        return torch.load(path, weights_only=False)
    except Exception as err:  # torch raises many kinds for a damaged file
        raise FileAccessError(
            f"cannot read the training checkpoint ({type(err).__name__}: {err})",
            where=path,
            fix="delete the damaged checkpoint to start the run over",
        ) from err


def save_matcher(model: Matcher, path: str | Path, **meta) -> None:
    """Write a trained matcher (architecture, options, weights and metadata) atomically.

    Parameters
    ----------
    model
        The trained matcher.
    path
        The file to write.
    **meta
        Extra entries stored with it and returned by :func:`load_matcher`.
    """
    blob = {"class": type(model).__name__, "config": model.config, "state": model.state_dict()}
    blob.update(meta)
    with atomic_path(path) as tmp:
        torch.save(blob, tmp)


def load_matcher(path: str | Path) -> tuple[Matcher, dict]:
    """Read a matcher written by :func:`save_matcher`.

    Parameters
    ----------
    path
        The file written by :func:`save_matcher`.

    Returns
    -------
    model : Matcher
        The matcher, in eval mode.
    meta : dict
        The extra entries saved with it.
    """
    blob = _load_checkpoint(Path(path))
    classes: dict[str, MatcherArch] = {"PaperMatcher": "paper", "ReversalTwoTower": "twotower"}
    name = classes.get(str(blob.get("class")))
    if name is None:
        raise FileAccessError(
            "the file is not an exprlab matcher",
            where=path,
            fix="pass a model directory written by `exprlab match train`",
        )
    cfg = dict(blob["config"])
    n_genes = cfg.pop("n_genes")
    if name == "paper":
        cfg.pop("n_extras", None)
    elif "sign" not in cfg:  # saved before the reversal start: the interaction had a plus sign
        cfg["sign"] = 1.0
    model = build_matcher(name, n_genes, **cfg)
    model.load_state_dict(blob["state"])
    model.eval()
    meta = {k: v for k, v in blob.items() if k not in ("class", "config", "state")}
    return model, meta


def load_matcher_folder(model_dir: str | Path) -> tuple[dict, list, list[str]]:
    """Metadata, ensemble members and genes of a folder of :func:`train_models`; damage refused.

    Parameters
    ----------
    model_dir
        The folder written by :func:`train_models` (``exprlab match train``).

    Returns
    -------
    meta : dict
        The content of ``model.json``.
    members : list
        The trained matchers, one per seed.
    genes : list of str
        The model's gene space (``genes.txt``).
    """
    model_dir = Path(model_dir)
    if not (model_dir / "model.json").is_file():
        raise FileAccessError(
            "not a model directory (model.json is missing)",
            where=model_dir,
            fix="pass the --out directory of `exprlab match train`",
        )
    fix = "re-run `exprlab match train` to write the model again"
    try:
        meta = json.loads((model_dir / "model.json").read_text())
        n_members = len(meta["members"])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise FormatError(
            "model.json is damaged or not exprlab's", where=model_dir / "model.json", fix=fix
        ) from None
    genes_file = model_dir / "genes.txt"
    if not genes_file.is_file():
        raise FileAccessError(
            "genes.txt is missing: not a complete exprlab matcher", where=model_dir, fix=fix
        )
    genes = genes_file.read_text().split()
    members = []
    for k in range(n_members):
        file = model_dir / f"model_{k}.pt"
        if not file.is_file():
            raise FileAccessError(
                f"{file.name} is missing: the model is incomplete", where=model_dir, fix=fix
            )
        try:
            members.append(load_matcher(file)[0])
        except (FileAccessError, KeyError, TypeError, RuntimeError) as err:
            raise FormatError(
                f"the model file is damaged or not exprlab's ({type(err).__name__})", where=file, fix=fix
            ) from None
    return meta, members, genes
