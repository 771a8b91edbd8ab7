"""Why does a learned matcher rank a drug for a disease? Integrated Gradients on both signatures.

:func:`explain_match` attributes a trained matcher's score for one (disease, drug) pair to the
genes of the disease signature and to the genes of the drug signature, with
:func:`exprlab.explain.integrated_gradients` on the two inputs at once (a tuple input), and
aggregates the per-gene attributions over pathways.

What is explained. The match score follows the ranking rule of the matchers (docs/methods.md §2):
the maximum over the drug's perturbations, summed over the disease's contrasts. The maximum is
not differentiable where it switches, so each contrast is explained together with the
perturbation that attains its maximum at the actual signatures; the explained quantity is the
sum over contrasts of those pair logits, and by completeness the attributions of a contrast
add up to its pair logit minus the pair logit at the baseline (``delta`` reports the gap).
Attributions of the same gene are summed over contrasts (disease side) and over the chosen
perturbations (drug side); ``combined`` is their sum. A positive attribution means the gene
raises the score (supports the match).

Inputs as the model reads them. The model sees its own gene space (``genes.txt`` of a model
directory); genes of the signatures outside it only act through pair features (the cosine
reversal over the full gene space of the two-tower model). The two-tower model L2-normalises
each signature; a normalisation is scale-invariant, so along the straight path from a zero
baseline the normalised input would not change at all and every attribution would vanish.
The norms are therefore those of the explained signatures, held fixed along the path: the path
runs from "no signal" to the signature in the space the model reads, and at the end point the
function is exactly the model's. The paper's network has no normalisation and starts with a
linear layer on each side, so its attributions take the exact after-first-layer engine
(:class:`~exprlab.explain.FirstLinear`), built here from the matcher's
encoder weights; other matchers take the generic engine.

Baselines. ``"zero"`` (default): no differential expression and no drug effect — the natural
reference of a signature. A pair of arrays / Series over genes gives any other reference.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from torch import nn
from torch.nn import functional as F

from exprlab._defaults import N_STEPS
from exprlab._validation import check_choice, check_count
from exprlab.errors import GeneSpaceError, InputDataError, InvalidParameterError
from exprlab.explain._aggregate import pathway_scores
from exprlab.explain._enrichment import hypergeometric_enrichment, rank_enrichment
from exprlab.explain._integrated_gradients import FirstLinear, integrated_gradients
from exprlab.explain._quadrature import Method
from exprlab.io import read
from exprlab.models import Matcher, PaperMatcher, SeedEnsemble, load_matcher_folder

__all__ = [
    "MatchModel",
    "MatchExplanation",
    "load_match_model",
    "explain_match",
    "paper_first_linear",
    "resolve_signatures",
]

#: pair features the explanation can recompute differentiably
SUPPORTED_FEATURES = ("cosine_reversal",)


@dataclass
class MatchModel:
    """A trained matcher (one or several seeds) with what is needed to read signatures.

    Parameters
    ----------
    members
        Trained :class:`~exprlab.models.Matcher` objects; the score is the mean logit.
    genes
        The model's gene space (input columns, in order).
    features
        Pair feature name -> (mean, sd) used to standardise it in training (only
        ``cosine_reversal`` is supported); empty when the model takes no pair feature.
    arch
        ``paper`` or ``twotower`` (informative).
    """

    members: list[Matcher]
    genes: list[str]
    features: dict[str, tuple[float, float]] = field(default_factory=dict)
    arch: str = ""

    def __post_init__(self) -> None:
        if not self.members:
            raise InputDataError(
                "the model has no trained member", where="model", fix="train at least one model"
            )
        n = {int(m.config["n_genes"]) for m in self.members}
        if n != {len(self.genes)}:
            raise GeneSpaceError(
                f"the model's weights expect {sorted(n)} genes but {len(self.genes)} gene names were given",
                where="model genes",
                fix="pass the gene list the model was trained on",
            )
        needs = max(int(m.config.get("n_extras", 0)) for m in self.members)
        if needs > len(SUPPORTED_FEATURES) or (needs and "cosine_reversal" not in self.features):
            raise InvalidParameterError(
                f"the model takes {needs} pair feature(s) "
                f"({', '.join(self.features) or 'none named'}); "
                "explanations can recompute only the cosine reversal",
                where="model",
                fix="explain a model trained by `exprlab match train` (cosine reversal only)",
            )


def load_match_model(model: MatchModel | str | Path) -> MatchModel:
    """A :class:`MatchModel` from a directory written by ``exprlab match train``.

    Parameters
    ----------
    model
        The model directory (``model.json``, ``genes.txt``, ``model_<k>.pt``), or a
        :class:`MatchModel`, returned as is.

    Returns
    -------
    MatchModel
        The members, their gene space and pair-feature standardisation.
    """
    if isinstance(model, MatchModel):
        return model
    meta, members, genes = load_matcher_folder(model)
    features = {k: (float(v[0]), float(v[1])) for k, v in meta.get("features", {}).items()}
    return MatchModel(members, genes, features, str(meta.get("architecture", "")))


def _as_model(model, genes, features) -> MatchModel:
    if isinstance(model, (MatchModel, str, Path)):
        return load_match_model(model)
    members = model.members if isinstance(model, SeedEnsemble) else [model]
    if not all(isinstance(m, Matcher) for m in members):
        raise InvalidParameterError(
            f"cannot explain a {type(model).__name__}",
            where="model",
            fix="pass a model directory, a MatchModel, a Matcher or a SeedEnsemble",
        )
    if genes is None:
        raise InvalidParameterError(
            "a bare matcher needs its gene space",
            where="genes",
            fix="pass genes= (the columns the model was trained on)",
        )
    return MatchModel(list(members), list(map(str, genes)), dict(features or {}))


# ------------------------------------------------------------------------- the scored function
class _PairScore(nn.Module):
    """Mean pair logit of the members on dense inputs, as the matchers compute it.

    Inputs: disease and drug rows over the model's genes (already scaled by their fixed norms
    when the model normalises), then — when the model takes the cosine reversal — disease and
    drug rows over the full gene space, scaled to unit norm. Dense rows go through each
    member's own encoders as an all-genes EmbeddingBag weighted by the values (the same sums
    the sparse path computes), so the member's code is used as is.
    """

    def __init__(self, model: MatchModel):
        super().__init__()
        self.members = nn.ModuleList(model.members)
        self.stats = model.features.get("cosine_reversal")
        self.matchers: list[Matcher] = list(model.members)  # typed view of the registered members
        self.uses_feature = [bool(m.config.get("n_extras", 0)) for m in model.members]

    def forward(self, xd, xs, xd_full=None, xs_full=None):
        n, g = xd.shape
        idx = torch.arange(g).repeat(n)
        off = torch.arange(n) * g
        dtype = next(iter(self.members[0].parameters())).dtype
        xd, xs = xd.to(dtype), xs.to(dtype)
        extras = None
        if any(self.uses_feature):
            mu, sd = cast(tuple[float, float], self.stats)  # present: checked by MatchModel
            cosine = -(xd_full.to(dtype) * xs_full.to(dtype)).sum(dim=1)
            extras = ((cosine - mu) / sd).unsqueeze(0)
        total: Any = 0.0
        for member, uses in zip(self.matchers, self.uses_feature):
            hd = member.encode_disease((idx, off, xd.reshape(-1)))
            hs = member.encode_drug((idx, off, xs.reshape(-1)))
            total = total + member.pair_logits(hd, hs, extras if uses else None)
        return total / len(self.members)

    def split_first_linear(self) -> FirstLinear | None:
        """The exact IG engine's split, when every member is the paper's network."""
        papers = [m for m in self.matchers if isinstance(m, PaperMatcher)]
        if len(papers) != len(self.matchers):
            return None
        return paper_first_linear(papers)


def paper_first_linear(members: Sequence[PaperMatcher]) -> FirstLinear:
    """:class:`FirstLinear` of the mean logit of paper networks (inputs: disease, drug rows).

    Each network starts with z_d = W_d x_d + b_d and z_s = W_s x_s + b_s (its EmbeddingBag
    encoders); the members' first layers are stacked, and the head applies ReLU, the fusion
    and output layers of each member to its slice and averages the logits.
    """
    hidden = [m.hidden for m in members]
    w_d = torch.cat([m.dis_enc.weight.detach().T for m in members], dim=0)
    w_s = torch.cat([m.drug_enc.weight.detach().T for m in members], dim=0)
    b_d = torch.cat([m.dis_bias.detach() for m in members])
    b_s = torch.cat([m.drug_bias.detach() for m in members])

    def head(z_d: torch.Tensor, z_s: torch.Tensor) -> torch.Tensor:
        total: Any = 0.0
        start = 0
        for m, h in zip(members, hidden):
            hd, hs = F.relu(z_d[:, start : start + h]), F.relu(z_s[:, start : start + h])
            total = total + m.pair_logits(hd.to(m.fuse.weight.dtype), hs.to(m.fuse.weight.dtype))
            start += h
        return total / len(members)

    return FirstLinear((w_d, w_s), (b_d, b_s), head)


# ------------------------------------------------------------------------- signatures
def _suggest(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
    return (
        f"did you mean {', '.join(map(repr, close))}?"
        if close
        else f"{len(known)} are known, e.g. {', '.join(map(repr, list(known)[:3]))}"
    )


def _pick(obj, name, library, side: str) -> ad.AnnData:
    """The contrasts of a disease / perturbations of a drug, by name or as given."""
    if isinstance(obj, ad.AnnData):
        if obj.n_obs == 0:
            raise InputDataError(
                f"the {side} signature has no row", where=side, fix=f"pass at least one {side} signature"
            )
        return obj
    if isinstance(obj, (str, Path)) and Path(obj).is_file():
        return _pick(read(obj), name, library, side)
    if not isinstance(obj, str):
        raise InvalidParameterError(
            f"the {side} is a {type(obj).__name__}",
            where=side,
            fix=f"pass a {side} name, a signature file or an AnnData",
        )
    if library is None:
        raise InvalidParameterError(
            f"the {side} {obj!r} is a name but no library was given",
            where=side,
            fix="pass library= (e.g. exprlab.datasets.repurposing_benchmark())",
        )
    table = library.diseases if side == "disease" else library.drugs
    column = table.obs[side].astype(str)
    rows = np.flatnonzero(column.to_numpy() == obj)
    if rows.size == 0:
        kind = "contrast" if side == "disease" else "perturbation"
        raise InputDataError(
            f"{side} {obj!r} has no {kind} signature in the library, so the model cannot score "
            f"it ({_suggest(obj, sorted(set(column)))})",
            where=side,
            fix=f"use a {side} name of the library or pass its signature as a file",
        )
    return table[rows]


def _dense(a: ad.AnnData) -> np.ndarray:
    x = a.X.toarray() if sp.issparse(a.X) else np.asarray(a.X)
    x = np.asarray(x, dtype=np.float64)
    if not np.isfinite(x).all():
        r, c = np.argwhere(~np.isfinite(x))[0]
        raise InputDataError(
            f"non-finite value at signature {a.obs_names[r]!r}, gene {a.var_names[c]!r}",
            where="signature",
            fix="replace NaN/infinite values (unlisted genes are 0)",
        )
    return x


def resolve_signatures(disease, drug, *, library=None) -> tuple[ad.AnnData, ad.AnnData]:
    """(contrasts, perturbations) AnnData for a disease and a drug given by name, file or AnnData.

    Raises :class:`~exprlab.errors.InputDataError` naming close matches when a name has no
    signature in ``library``.
    """
    return _pick(disease, disease, library, "disease"), _pick(drug, drug, library, "drug")


def _baseline_rows(baselines, genes: pd.Index, shape) -> tuple[np.ndarray, np.ndarray]:
    if baselines is None or (isinstance(baselines, str) and baselines == "zero"):
        return np.zeros(shape[0]), np.zeros(shape[1])
    if isinstance(baselines, str):
        check_choice(baselines, "baselines", ("zero", "(disease, drug) pair of gene vectors"))
    if not (isinstance(baselines, tuple) and len(baselines) == 2):
        raise InvalidParameterError(
            "baselines must be 'zero' or a (disease, drug) pair",
            where="baselines",
            fix="pass baselines=(disease_vec, drug_vec)",
        )
    out = []
    for side, b in zip(("disease", "drug"), baselines):
        if isinstance(b, pd.Series):
            v = b.reindex(genes).fillna(0.0).to_numpy(dtype=np.float64)
        else:
            v = np.asarray(b, dtype=np.float64).ravel()
            if v.size != len(genes):
                raise InputDataError(
                    f"the {side} baseline has {v.size} values for {len(genes)} genes",
                    where=f"baselines[{side}]",
                    fix="pass one value per gene, or a Series indexed by gene",
                )
        if not np.isfinite(v).all():
            raise InputDataError(
                f"the {side} baseline has non-finite values",
                where=f"baselines[{side}]",
                fix="use finite values",
            )
        out.append(v)
    return out[0], out[1]


# ------------------------------------------------------------------------- explanation
@dataclass
class MatchExplanation:
    """The attributions of one (disease, drug) match, as :func:`explain_match` returns them.

    Parameters
    ----------
    disease
        The disease's name.
    drug
        The drug's name.
    genes
        One row per gene of the signatures' gene space: ``gene``, ``disease_value`` and
        ``drug_value`` (means over the explained contrasts / chosen perturbations),
        ``disease_attribution``, ``drug_attribution``, ``combined``, ``in_model`` (whether the
        gene is in the model's gene space), ``rank`` (by decreasing combined attribution).
        Sorted by rank.
    pairs
        One row per contrast: the perturbation attaining its maximum, the pair logit, the
        logit at the baseline and the completeness gap.
    score
        The match score (sum over contrasts of the maximum pair logit).
    pathways
        Pathway table when gene sets were given (see :func:`explain_match`), else None.
    """

    disease: str
    drug: str
    genes: pd.DataFrame
    pairs: pd.DataFrame
    score: float
    pathways: pd.DataFrame | None = None

    def top_genes(self, n: int = 20) -> pd.DataFrame:
        """The ``n`` genes with the largest combined attribution."""
        return self.genes.head(int(n))


def explain_match(
    model,
    disease,
    drug,
    *,
    library=None,
    baselines="zero",
    gene_sets: Mapping[str, Sequence[str]] | None = None,
    top: int = 50,
    n_steps: int = N_STEPS,
    method: Method = "gausslegendre",
    genes: Sequence[str] | None = None,
    features: Mapping[str, tuple[float, float]] | None = None,
    min_set_size: int = 3,
    effect: Literal["total", "interaction"] = "total",
    instances: Literal["max", "all"] = "max",
) -> MatchExplanation:
    """Integrated Gradients of a matcher's score for one disease and one drug (docs/methods.md §3).

    Parameters
    ----------
    model
        A model directory written by ``exprlab match train``, a :class:`MatchModel`, or a
        trained :class:`~exprlab.models.Matcher` / ``SeedEnsemble`` with ``genes``
        (its gene space) and ``features`` (pair-feature standardisation) given.
    disease, drug
        Names in ``library``, signature files, or AnnData (one obs per contrast /
        perturbation). Disease and drug genes are aligned by name (union; a gene absent from
        one side is 0 there).
    library
        A benchmark with ``diseases`` / ``drugs`` in which names are looked up.
    baselines
        ``"zero"`` or a (disease, drug) pair of vectors over the genes (arrays in the order of
        the union gene space, or Series indexed by gene).
    gene_sets
        Optional set name -> genes (a GMT, :func:`exprlab.io.read_gmt`): adds the pathway table.
    top
        Number of top genes (by combined attribution) tested for over-representation.
    n_steps, method
        The IG quadrature.
    genes
        Gene space of a bare matcher (ignored for a model directory or :class:`MatchModel`).
    features
        Pair-feature standardisation of a bare matcher.
    min_set_size
        Gene sets with fewer genes in the gene space are not reported.
    effect
        ``"total"`` explains the pair logit f(d, s); ``"interaction"`` explains
        f(d, s) - f(d, s') - f(d', s) + f(d', s') (primes: baselines), what the disease and the
        drug contribute together, without the drug-only prior and the disease-only terms (IG
        is linear in the function: three IG runs, subtracted).
    instances
        ``"max"`` explains each contrast with the perturbation attaining its maximum (the
        ranking rule); ``"all"`` explains the mean pair logit over the drug's perturbations.

    Raises
    ------
    InputDataError
        A disease or drug name without signature in ``library`` (close names are suggested),
        empty or non-finite signatures.
    GeneSpaceError
        Signatures sharing no gene with the model, gene sets sharing no gene with the signatures.
    InvalidParameterError
        Unknown baseline, effect or instances rule; a name given without a library.

    Returns
    -------
    MatchExplanation
        Gene and pair tables, the score and, with ``gene_sets``, the pathway table of
        :func:`pathway_table`.
    """
    # Long by its documented options; the body reads as the method's steps, each a helper below.
    # Over 80 lines only with its docstring (every option is documented there); the body is a short pipeline of helpers.
    check_choice(effect, "effect", ("total", "interaction"))
    check_choice(instances, "instances", ("max", "all"))
    mm = _as_model(model, genes, features)
    dis, drg = resolve_signatures(disease, drug, library=library)
    space, cols = _gene_space(dis, drg, mm)
    xd = np.zeros((dis.n_obs, len(space)))
    xd[:, space.get_indexer(dis.var_names.astype(str))] = _dense(dis)
    xs = np.zeros((drg.n_obs, len(space)))
    xs[:, space.get_indexer(drg.var_names.astype(str))] = _dense(drg)
    bd, bs = _baseline_rows(baselines, space, (len(space), len(space)))
    scorer = _PairScore(mm).eval()
    uses_feature = any(scorer.uses_feature)
    normalise = bool(mm.members[0].normalize_inputs)
    d_m, d_mb, d_f, d_fb = _model_inputs(xd, bd, cols, normalise)
    s_m, s_mb, s_f, s_fb = _model_inputs(xs, bs, cols, normalise)
    # every (contrast, perturbation) logit at the actual signatures -> the maximising perturbation
    nd, ns = xd.shape[0], xs.shape[0]
    ii, jj = np.repeat(np.arange(nd), ns), np.tile(np.arange(ns), nd)
    full_args = (d_f[ii], s_f[jj]) if uses_feature else ()
    logits = _forward(scorer, d_m[ii], s_m[jj], *full_args).reshape(nd, ns)
    if instances == "max":
        pc, ps, weight = np.arange(nd), logits.argmax(axis=1), np.ones(nd)
    else:
        pc, ps, weight = ii, jj, np.full(ii.size, 1.0 / ns)
    inputs = (d_m[pc], s_m[ps]) + ((d_f[pc], s_f[ps]) if uses_feature else ())
    bases = (d_mb[pc], s_mb[ps]) + ((d_fb[pc], s_fb[ps]) if uses_feature else ())
    attrs, delta, base_logit = _attribute_pairs(
        scorer, inputs, bases, effect=effect, n_steps=n_steps, method=method
    )
    a_dis = _to_space(attrs[0], attrs[2] if uses_feature else None, weight, cols, len(space))
    a_drg = _to_space(attrs[1], attrs[3] if uses_feature else None, weight, cols, len(space))
    table = _gene_table(space, mm.genes, xd, xs[np.unique(ps)], a_dis, a_drg)
    pairs = pd.DataFrame(
        {
            "contrast": dis.obs_names.astype(str)[pc],
            "perturbation": drg.obs_names.astype(str)[ps],
            "weight": weight,
            "logit": logits[pc, ps],
            "baseline_logit": base_logit,
            "delta": delta,
        }
    )
    name_d = disease if _is_name(disease) else _label(dis, "disease")
    name_s = drug if _is_name(drug) else _label(drg, "drug")
    result = MatchExplanation(str(name_d), str(name_s), table, pairs, float(logits.max(axis=1).sum()))
    if gene_sets is not None:
        result.pathways = pathway_table(table, gene_sets, top=top, min_size=min_set_size)
    return result


def _gene_space(dis: ad.AnnData, drg: ad.AnnData, mm: MatchModel) -> tuple[pd.Index, np.ndarray]:
    """The union gene space of both signatures, and the column of each model gene in it (-1: absent)."""
    dis_names = pd.Index(dis.var_names.astype(str))
    drg_names = pd.Index(drg.var_names.astype(str))
    space = dis_names.append(drg_names[~drg_names.isin(dis_names)])
    if space.has_duplicates:
        raise InputDataError(
            f"gene {space[space.duplicated()][0]!r} appears twice in a signature",
            where="signature genes",
            fix="make gene names unique",
        )
    model_genes = pd.Index(mm.genes)
    cols = space.get_indexer(model_genes)
    if not (cols >= 0).any():
        raise GeneSpaceError(
            f"no gene of the signatures is in the model's gene space (signature genes e.g. "
            f"{list(space[:3])}; model genes e.g. {list(model_genes[:3])})",
            where="signatures",
            fix="use the model's gene identifiers (gene symbols for the public benchmark)",
        )
    return space, cols


def _model_inputs(
    x: np.ndarray, ref: np.ndarray, cols: np.ndarray, normalise: bool
) -> tuple[np.ndarray, ...]:
    """(model-space rows, their baseline, full-space rows, their baseline), scaled by x's fixed norms."""
    present = cols >= 0
    m = np.zeros((x.shape[0], len(cols)))
    m[:, present] = x[:, cols[present]]
    r = np.zeros((x.shape[0], len(cols)))
    r[:, present] = ref[None, cols[present]]
    scale = np.linalg.norm(m, axis=1, keepdims=True) if normalise else np.ones((len(m), 1))
    scale[scale == 0] = 1.0
    full_scale = np.linalg.norm(x, axis=1, keepdims=True)
    full_scale[full_scale == 0] = 1.0
    return m / scale, r / scale, x / full_scale, np.broadcast_to(ref, x.shape) / full_scale


def _forward(scorer: nn.Module, *arrays: np.ndarray) -> np.ndarray:
    """The scorer's pair logits on numpy inputs, without gradients."""
    t = [torch.from_numpy(np.ascontiguousarray(v)) for v in arrays]
    with torch.no_grad():
        return scorer(*t).double().numpy()


def _attribute_pairs(
    scorer: _PairScore, inputs: tuple, bases: tuple, *, effect: str, n_steps: int, method: Method
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """IG of the pair logit per input, the convergence deltas and the logits at the baselines.

    With ``effect="interaction"``, the IG of the disease-only function f(., drug baseline) and of
    the drug-only function f(disease baseline, .) are subtracted (IG is linear in the function).
    """

    def ig(xs_in, bs_in):
        return integrated_gradients(
            scorer,
            tuple(np.ascontiguousarray(v) for v in xs_in),
            baselines=tuple(np.ascontiguousarray(v) for v in bs_in),
            target=0,
            n_steps=n_steps,
            method=method,
            output="logit",
            return_convergence_delta=True,
        )

    attrs_raw, delta_raw = ig(inputs, bases)
    attrs = [np.asarray(a, dtype=np.float64) for a in attrs_raw]
    delta = np.asarray(delta_raw, dtype=np.float64)
    base_logit = _forward(scorer, *bases)
    if effect == "interaction":
        dis_side = (0, 2) if len(inputs) == 4 else (0,)
        for side in (dis_side, tuple(i + 1 for i in dis_side)):
            alone = tuple(inputs[i] if i in side else bases[i] for i in range(len(inputs)))
            a_alone, d_alone = ig(alone, bases)
            for i in side:
                attrs[i] = attrs[i] - np.asarray(a_alone[i], dtype=np.float64)
            delta = delta - np.asarray(d_alone, dtype=np.float64)
            base_logit = base_logit + _forward(scorer, *alone) - _forward(scorer, *bases)
    return attrs, delta, base_logit


def _to_space(
    model_part: np.ndarray, full_part: np.ndarray | None, weight: np.ndarray, cols: np.ndarray, n_space: int
) -> np.ndarray:
    """Weighted sum over explained pairs of one side's attributions, over the union gene space."""
    present = cols >= 0
    out = np.zeros(n_space)
    out[cols[present]] = (weight @ model_part)[present]
    if full_part is not None:
        out += weight @ full_part
    return out


def _gene_table(
    space: pd.Index,
    model_genes: Sequence[str],
    xd: np.ndarray,
    drug_rows: np.ndarray,
    a_dis: np.ndarray,
    a_drg: np.ndarray,
) -> pd.DataFrame:
    """One row per gene of the space, ranked by decreasing combined attribution."""
    table = pd.DataFrame(
        {
            "gene": space,
            "disease_value": xd.mean(axis=0),
            "drug_value": drug_rows.mean(axis=0),
            "disease_attribution": a_dis,
            "drug_attribution": a_drg,
            "combined": a_dis + a_drg,
            "in_model": space.isin(pd.Index(model_genes)),
        }
    )
    table = table.sort_values(["combined", "gene"], ascending=[False, True], kind="stable")
    table.insert(1, "rank", np.arange(1, len(table) + 1))
    return table.reset_index(drop=True)


def _is_name(obj) -> bool:
    return isinstance(obj, str) and not Path(obj).is_file()


def _label(a: ad.AnnData, column: str) -> str:
    if column in a.obs and a.obs[column].nunique() == 1:
        return str(a.obs[column].iloc[0])
    return str(a.obs_names[0])


def pathway_table(
    genes: pd.DataFrame, gene_sets: Mapping[str, Sequence[str]], *, top: int = 50, min_size: int = 3
) -> pd.DataFrame:
    """Pathway-level view of a gene table of :func:`explain_match`.

    Summed attributions per set (:func:`pathway_scores`), the over-representation of the ``top``
    genes with a positive combined attribution, and the rank test of every set over the whole
    combined ranking. The universe of both tests is the genes that can carry an attribution:
    those listed (non-zero) in either signature or attributed (with a non-zero baseline). Genes
    listed nowhere would inflate every test, since the top genes are always listed ones.

    Parameters
    ----------
    genes
        The ``genes`` table of a :class:`MatchExplanation`.
    gene_sets
        Set name -> genes.
    top
        Number of top genes tested for over-representation.
    min_size
        Sets with fewer genes in the universe are not reported.

    Returns
    -------
    pandas.DataFrame
        One row per set: ``pathway``, ``set_size``, summed ``disease``, ``drug`` and
        ``combined`` attributions, the hypergeometric test of the top genes (``overlap``,
        ``hyper_pvalue``, ``hyper_qvalue``), the rank test (``rank_auc``, ``rank_pvalue``,
        ``rank_qvalue``) and ``top_genes``; sorted by hypergeometric then rank p-value.
    """
    # Over 80 lines only with its docstring; the body is one table assembled in order.
    check_count(top, "top", minimum=1)
    # the universe: genes that can carry attribution (listed in a signature, or attributed via
    # a non-zero baseline); unlisted genes would make any set of listed genes look enriched
    columns = ["disease_value", "drug_value", "disease_attribution", "drug_attribution"]
    genes = genes[(genes[columns].to_numpy() != 0).any(axis=1)]
    if genes.empty:
        raise InputDataError(
            "the signatures list no gene", where="explanation", fix="pass signatures with non-zero values"
        )
    universe = genes["gene"].astype(str).to_numpy()
    values = genes[["disease_attribution", "drug_attribution", "combined"]].to_numpy().T
    sums = pathway_scores(values, gene_sets, universe, how="sum", min_size=min_size)
    sums.index = ["disease", "drug", "combined"]
    sizes = pathway_scores(
        np.ones((1, len(universe))), gene_sets, universe, how="sum", min_size=min_size
    ).iloc[0]
    agg = sums.T.assign(set_size=sizes.round().astype(int))
    agg.index.name = "pathway"
    ranked = genes.sort_values("combined", ascending=False, kind="stable")
    chosen = ranked.loc[ranked["combined"] > 0, "gene"].head(int(top))
    if chosen.empty:
        raise InputDataError(
            "no gene has a positive attribution, so there are no top genes to test",
            where="explanation",
            fix="check the model scores this pair above its baseline",
        )
    hyper = hypergeometric_enrichment(chosen, gene_sets, universe, min_size=min_size)
    hyper = hyper.set_index("pathway")[["overlap", "pvalue", "qvalue", "genes"]]
    hyper.columns = ["overlap", "hyper_pvalue", "hyper_qvalue", "top_genes"]
    rank = rank_enrichment(
        pd.Series(genes["combined"].to_numpy(), index=universe), gene_sets, min_size=min_size
    )
    rank = rank.set_index("pathway")[["auc", "pvalue", "qvalue"]]
    rank.columns = ["rank_auc", "rank_pvalue", "rank_qvalue"]
    out = agg.join(hyper, how="inner").join(rank, how="left").reset_index()
    out = out[
        [
            "pathway",
            "set_size",
            "disease",
            "drug",
            "combined",
            "overlap",
            "hyper_pvalue",
            "hyper_qvalue",
            "rank_auc",
            "rank_pvalue",
            "rank_qvalue",
            "top_genes",
        ]
    ]
    return out.sort_values(
        ["hyper_pvalue", "rank_pvalue", "combined"], ascending=[True, True, False], kind="stable"
    ).reset_index(drop=True)
