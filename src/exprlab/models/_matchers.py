"""Learned drug-disease matchers: the paper's late-fusion network and a reversal two-tower model.

Both models score one (disease contrast, drug perturbation) pair from the two signatures and
share the ranking rule of arXiv:2303.11695 (docs/methods.md §2): score every (contrast, perturbation)
pair, take the maximum over a drug's perturbations, sum over a disease's contrasts
(:func:`aggregate_scores`; the connectivity baselines use the same rule, so every method is
ranked the same way).

Inputs are sparse. A disease signature lists only its differentially expressed genes (the rest
are 0) and a CMap 02 instance is +1 on its 100 up genes and -1 on its 100 down genes, so a
``Linear(genes, h)`` layer is computed as an ``EmbeddingBag`` sum over the non-zero genes,
weighted by their values: the same function and the same gradients as the dense layer at a
small fraction of the cost (the weights are initialised like ``nn.Linear``).

:class:`PaperMatcher`
    docs/methods.md §2: drug -> Linear(G, 1024) -> ReLU; disease -> Linear(G, 1024) -> ReLU;
    concatenate -> Linear(2048, 512) -> ReLU -> Linear(512, 1) -> logit.
:class:`ReversalTwoTower`
    Our design for diseases and drugs never seen in training (see the class docstring).
:class:`SeedEnsemble`
    The mean pair logit of several copies trained with different seeds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from exprlab._validation import check_choice
from exprlab.errors import InputDataError
from exprlab.signatures import PairData, SparseRows


def aggregate_scores(
    pair_scores: np.ndarray,
    contrast_disease: np.ndarray,
    instance_drug: np.ndarray,
    *,
    instance_rule: Literal["max", "mean"] = "max",
    contrast_rule: Literal["sum", "mean"] = "sum",
) -> pd.DataFrame:
    """The ranking rule: (contrast x instance) scores -> (disease x drug) scores (docs/methods.md §2).

    Parameters
    ----------
    pair_scores
        (contrasts × instances) pair scores.
    contrast_disease
        The disease of each contrast (row).
    instance_drug
        The drug of each instance (column).
    instance_rule
        ``max`` over a drug's perturbations (the ranking rule) or their ``mean``.
    contrast_rule
        ``sum`` over a disease's contrasts or their ``mean`` (ranks identically within a
        disease).

    Returns
    -------
    pandas.DataFrame
        (diseases × drugs) scores; rows and columns are sorted names.
    """
    check_choice(instance_rule, "instance_rule", ("max", "mean"))
    check_choice(contrast_rule, "contrast_rule", ("sum", "mean"))
    s = np.asarray(pair_scores, dtype=np.float64)
    drugs, inst_codes = np.unique(np.asarray(instance_drug).astype(str), return_inverse=True)
    order = np.argsort(inst_codes, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(inst_codes[order]) != 0])
    if instance_rule == "max":
        by_drug = np.maximum.reduceat(s[:, order], starts, axis=1)
    else:
        counts = np.diff(np.r_[starts, len(order)])
        by_drug = np.add.reduceat(s[:, order], starts, axis=1) / counts
    diseases, con_codes = np.unique(np.asarray(contrast_disease).astype(str), return_inverse=True)
    out = np.zeros((len(diseases), len(drugs)))
    np.add.at(out, con_codes, by_drug)
    if contrast_rule == "mean":
        out /= np.bincount(con_codes)[:, None]
    return pd.DataFrame(out, index=diseases, columns=drugs)


def _linear_like_(emb: nn.EmbeddingBag, bias: nn.Parameter, fan_in: int) -> None:
    """Initialise an EmbeddingBag (+ bias) like ``nn.Linear(fan_in, out)``: U(+-1/sqrt(fan_in))."""
    bound = 1.0 / math.sqrt(fan_in)
    nn.init.uniform_(emb.weight, -bound, bound)
    nn.init.uniform_(bias, -bound, bound)


class Matcher(nn.Module):
    """Common interface of the matchers: encode contrasts and instances, score pairs or all pairs.

    Subclasses set ``config`` (their constructor arguments, saved with the weights) and
    implement the encoders and the pair logits.
    """

    #: whether the disease/drug rows are L2-normalised before encoding
    normalize_inputs = False
    #: the constructor arguments, saved with the weights
    config: dict

    def encode_disease(self, bag) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def encode_drug(self, bag) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def pair_logits(self, hd, hs, extras=None) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def score_block(self, hd, hs, extras=None) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    @torch.no_grad()
    def score_pairs(
        self,
        data: PairData,
        contrast_rows: np.ndarray,
        instance_rows: np.ndarray,
        *,
        chunk: int = 8,
    ) -> np.ndarray:
        """Logits of every (contrast, instance) pair of the given rows, shape (contrasts, instances)."""
        was_training = self.training
        self.eval()
        dis, drg = _inputs(data, self.normalize_inputs)
        hs = self.encode_drug(drg.bag(instance_rows))
        out = np.empty((len(contrast_rows), len(instance_rows)), dtype=np.float32)
        for start in range(0, len(contrast_rows), chunk):
            rows = contrast_rows[start : start + chunk]
            hd = self.encode_disease(dis.bag(rows))
            ex = None
            if data.extras is not None and self.config.get("n_extras", 0):
                ex = torch.from_numpy(data.extras[:, rows][:, :, instance_rows])
            out[start : start + len(rows)] = self.score_block(hd, hs, ex).numpy()
        self.train(was_training)
        return out


def _inputs(data: PairData, normalize: bool) -> tuple[SparseRows, SparseRows]:
    """The data's rows, L2-normalised when the model asks for it (computed once per object)."""
    if not normalize:
        return data.diseases, data.drugs
    if data._normalized is None:
        data._normalized = (
            SparseRows(data.diseases.matrix, normalize=True),
            SparseRows(data.drugs.matrix, normalize=True),
        )
    return data._normalized


class PaperMatcher(Matcher):
    """The network of arXiv:2303.11695 (public code's "cell-line invariant" default).

    drug -> Linear(G, hidden) -> ReLU; disease -> Linear(G, hidden) -> ReLU; concatenate ->
    Linear(2 hidden, fusion) -> ReLU -> Linear(fusion, 1). Inputs are the raw disease log fold
    changes and the drug's +-1 vector, as in the paper. Defaults hidden=1024, fusion=512.

    The all-pairs score uses the linearity of the fusion layer: W [hd; hs] = W_d hd + W_s hs, so
    the two projections are computed once per contrast and once per instance.

    Parameters
    ----------
    n_genes
        Size G of the gene space.
    hidden
        Width of each encoder.
    fusion
        Width of the fusion layer.
    n_extras
        Pair features; accepted for a uniform interface, the paper's network takes none.
    """

    def __init__(self, n_genes: int, *, hidden: int = 1024, fusion: int = 512, n_extras: int = 0):
        super().__init__()
        self.config = {"n_genes": n_genes, "hidden": hidden, "fusion": fusion, "n_extras": 0}
        self.dis_enc = nn.EmbeddingBag(n_genes, hidden, mode="sum")
        self.dis_bias = nn.Parameter(torch.empty(hidden))
        self.drug_enc = nn.EmbeddingBag(n_genes, hidden, mode="sum")
        self.drug_bias = nn.Parameter(torch.empty(hidden))
        _linear_like_(self.dis_enc, self.dis_bias, n_genes)
        _linear_like_(self.drug_enc, self.drug_bias, n_genes)
        self.fuse = nn.Linear(2 * hidden, fusion)
        self.out = nn.Linear(fusion, 1)
        self.hidden = hidden

    def encode_disease(self, bag) -> torch.Tensor:
        idx, off, w = bag
        return F.relu(self.dis_enc(idx, off, per_sample_weights=w) + self.dis_bias)

    def encode_drug(self, bag) -> torch.Tensor:
        idx, off, w = bag
        return F.relu(self.drug_enc(idx, off, per_sample_weights=w) + self.drug_bias)

    def pair_logits(self, hd, hs, extras=None) -> torch.Tensor:
        return self.out(F.relu(self.fuse(torch.cat([hs, hd], dim=1)))).squeeze(1)

    def score_block(self, hd, hs, extras=None) -> torch.Tensor:
        w_s, w_d = self.fuse.weight[:, : self.hidden], self.fuse.weight[:, self.hidden :]
        a = hd @ w_d.T + self.fuse.bias  # contrasts x fusion
        b = hs @ w_s.T  # instances x fusion
        z = F.relu(a[:, None, :] + b[None, :, :])
        return (z @ self.out.weight[0]) + self.out.bias[0]


class ReversalTwoTower(Matcher):
    """Two towers over a shared gene embedding, plus the reversal score and a drug prior.

    score(contrast, instance) = -<f(E^T x_d), g(E^T x_s)> / sqrt(dim)
                                + prior(g(E^T x_s)) + sum_k a_k extra_k(contrast, instance) + b

    Design choices, each aimed at diseases and drugs absent from training:

    * **one gene embedding E for both sides**: a gene learnt from drug signatures and from
      disease signatures lives in one space, so what is learnt about a gene on training diseases
      transfers to any new disease (or new drug) that lists it, instead of each side learning
      private gene weights that only fire for signatures seen in training;
    * **L2-normalised inputs**: a disease with 3,000 listed genes and one with 30 contribute
      comparable vectors;
    * **a bilinear interaction initialised as reversal**: the towers are residual with their
      last layer at 0, so at initialisation the interaction is minus a random projection of the
      cosine between the two signatures (E E^T has expectation dim x identity): drugs whose
      signature is anti-correlated with the disease rank first before any training;
    * **extra inputs**: precomputed, standardised pair features (the cosine reversal over the
      full gene space, connectivity scores, and in the benchmark the drug's popularity and the
      similarity transfer) enter linearly with a starting weight of ``extra_weight`` shared
      equally, so the model starts from their average and keeps them where the learned part has
      no signal;
    * **a drug prior from the drug's signature** (not from its identity, starting at 0): it can
      learn that drugs with a given transcriptional effect are broadly indicated, which carries
      to new drugs;
    * **small** (dim 64): about 70x fewer weights than the paper's encoders, faster and less
      prone to memorising the training diseases.

    Parameters
    ----------
    n_genes
        Size of the gene space.
    dim
        Embedding and tower output width.
    hidden
        Hidden width of the towers and of the prior.
    n_extras
        Number of pair features entering linearly.
    extra_weight
        Sum of the starting weights of the pair features (each gets ``extra_weight / n_extras``).
    sign
        Sign of the interaction: -1 (reversal, the default) or +1 (models saved before the
        reversal start, read back by :func:`~exprlab.models.load_matcher`).
    """

    normalize_inputs = True

    def __init__(
        self,
        n_genes: int,
        *,
        dim: int = 64,
        hidden: int = 128,
        n_extras: int = 0,
        extra_weight: float = 1.0,
        sign: float = -1.0,
    ):
        super().__init__()
        self.config = {
            "n_genes": n_genes,
            "dim": dim,
            "hidden": hidden,
            "n_extras": n_extras,
            "extra_weight": extra_weight,
            "sign": sign,
        }
        self.sign = float(sign)
        self.genes = nn.EmbeddingBag(n_genes, dim, mode="sum")
        nn.init.normal_(self.genes.weight, std=1.0)
        self.dis_tower = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, dim))
        self.drug_tower = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, dim))
        self.prior = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        for tower in (self.dis_tower, self.drug_tower, self.prior):
            last = tower[2]
            assert isinstance(last, nn.Linear)
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
        self.extra = nn.Linear(n_extras, 1) if n_extras else None
        if self.extra is not None:
            nn.init.constant_(self.extra.weight, extra_weight / n_extras)
            nn.init.zeros_(self.extra.bias)
        self.dim = dim

    def encode_disease(self, bag) -> torch.Tensor:
        idx, off, w = bag
        g = self.genes(idx, off, per_sample_weights=w)
        return g + self.dis_tower(g)

    def encode_drug(self, bag) -> torch.Tensor:
        idx, off, w = bag
        g = self.genes(idx, off, per_sample_weights=w)
        v = g + self.drug_tower(g)
        return torch.cat([v, self.prior(v)], dim=1)

    def _extra_term(self, extras) -> torch.Tensor | float:
        if self.extra is None or extras is None:
            return 0.0
        return torch.tensordot(self.extra.weight[0], extras, dims=([0], [0])) + self.extra.bias[0]

    def pair_logits(self, hd, hs, extras=None) -> torch.Tensor:
        inter = self.sign * (hd * hs[:, : self.dim]).sum(dim=1) / math.sqrt(self.dim)
        return inter + hs[:, self.dim] + self._extra_term(extras)

    def score_block(self, hd, hs, extras=None) -> torch.Tensor:
        inter = self.sign * (hd @ hs[:, : self.dim].T) / math.sqrt(self.dim)
        return inter + hs[None, :, self.dim] + self._extra_term(extras)


MatcherArch = Literal["paper", "twotower"]
MATCHERS: tuple[MatcherArch, ...] = ("paper", "twotower")
ARCHITECTURES: dict[str, type[Matcher]] = {"paper": PaperMatcher, "twotower": ReversalTwoTower}


def build_matcher(name: MatcherArch, n_genes: int, **options) -> Matcher:
    """A fresh matcher by name (``paper`` or ``twotower``)."""
    check_choice(name, "arch", MATCHERS)
    return ARCHITECTURES[name](n_genes, **options)


class SeedEnsemble:
    """Several trained matchers (usually one architecture, different seeds) scored as one.

    The pair score is the mean of the members' logits; averaging seeds reduces the variance a
    single run has on small labelled sets.

    Parameters
    ----------
    members
        Trained matchers, at least one.
    """

    def __init__(self, members: Sequence[Matcher]):
        if not members:
            raise InputDataError(
                "an ensemble needs at least one trained model",
                where="SeedEnsemble",
                fix="train one model per seed first",
            )
        self.members = list(members)

    def score_pairs(self, data: PairData, contrast_rows, instance_rows, **kw) -> np.ndarray:
        total = self.members[0].score_pairs(data, contrast_rows, instance_rows, **kw)
        for m in self.members[1:]:
            total = total + m.score_pairs(data, contrast_rows, instance_rows, **kw)
        return total / len(self.members)


def rank_drugs(
    model: Matcher | SeedEnsemble,
    data: PairData,
    diseases: Sequence[str],
    drugs: Sequence[str],
) -> pd.DataFrame:
    """Disease x drug scores of a trained model under the ranking rule (max, then sum).

    Parameters
    ----------
    model
        A trained matcher or ensemble.
    data
        Signatures in the model's gene space.
    diseases
        Diseases to score (all their contrasts).
    drugs
        Candidate drugs (all their perturbations).

    Returns
    -------
    pandas.DataFrame
        (diseases × drugs) scores, see :func:`aggregate_scores`.
    """
    c_rows, i_rows = data.contrast_rows(diseases), data.instance_rows(drugs)
    if len(c_rows) == 0 or len(i_rows) == 0:
        raise InputDataError(
            f"{len(c_rows)} contrasts and {len(i_rows)} perturbations to score",
            where="rank_drugs",
            fix="pass diseases and drugs that have signatures in the data",
        )
    pairs = model.score_pairs(data, c_rows, i_rows)
    return aggregate_scores(pairs, data.contrast_disease[c_rows], data.instance_drug[i_rows])
