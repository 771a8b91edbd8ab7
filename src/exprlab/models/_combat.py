"""ComBat-style batch correction: per-gene location/scale adjustment with empirical-Bayes shrinkage.

docs/methods.md §3 (after Johnson, Li and Rabinovic 2007, *Biostatistics* 8:118–127). The
correction is fitted on training samples only and applied to any later sample with the training
estimates, so held-out samples never inform it. No biological covariate enters the model: the
class of a held-out sample is unknown when it is corrected, and a label that is confounded with
the batch is therefore partly removed with it (the caller checks the design first).

For gene g and batch b with n_b training samples:

1. standardise: z = (x - m_g) / s_g, where m_g is the training mean and s_g² the pooled
   within-batch variance (mean squared deviation from each sample's batch mean);
2. per-batch estimates: γ̂_bg = mean of z in batch b, δ̂²_bg = sample variance of z in batch b;
3. priors across genes (per batch): γ_bg ~ N(γ̄_b, τ²_b), δ²_bg ~ InvGamma(a_b, b_b), with
   hyper-parameters from the moments of the estimates;
4. posterior estimates γ*_bg, δ*²_bg by the fixed-point iteration of the paper;
5. adjusted value: x* = s_g (z - γ*_bg) / δ*_bg + m_g.

With ``empirical_bayes=False`` steps 3–4 are skipped (γ* = γ̂, δ* = δ̂): the plain
location/scale version.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from exprlab.errors import InputDataError

_FLOOR = 1e-12  # variances below this are treated as zero


@dataclass
class BatchCorrection:
    """A fitted ComBat-style correction (docs/methods.md §3).

    Parameters
    ----------
    levels
        Batch names seen in training, in the order of the rows of ``gamma`` and ``delta``.
    mean
        Per-gene training mean m_g.
    scale
        Per-gene pooled within-batch standard deviation s_g (1 where it is zero).
    gamma
        (batches, genes) location estimates used for the adjustment (γ* or γ̂).
    delta
        (batches, genes) scale estimates, as variances (δ*² or δ̂²).
    gamma_hat, delta_hat
        The unshrunk per-batch estimates (kept to show what the shrinkage did).
    empirical_bayes
        Whether ``gamma`` and ``delta`` are the shrunk estimates.
    """

    levels: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    gamma: np.ndarray
    delta: np.ndarray
    gamma_hat: np.ndarray
    delta_hat: np.ndarray
    empirical_bayes: bool = True

    @classmethod
    def fit(
        cls, values: np.ndarray, batches, *, empirical_bayes: bool = True, where: str = "training data"
    ) -> BatchCorrection:
        """Estimate the correction from training values (samples × genes) and their batches.

        Parameters
        ----------
        values
            Training expression (already on the log scale), samples × genes.
        batches
            Batch of each sample.
        empirical_bayes
            Shrink the per-batch estimates towards their across-gene priors.
        where
            What an error names as the place of a problem.

        Returns
        -------
        BatchCorrection
            The fitted correction.
        """
        x = np.asarray(values, dtype=np.float64)
        labels = np.asarray(batches).astype(str)
        levels, codes, counts = np.unique(labels, return_inverse=True, return_counts=True)
        if levels.size < 2:
            raise InputDataError(
                f"the training samples come from a single batch ({levels[0]!r}); there is nothing to correct",
                where=where,
                fix="drop the batch correction or check the batch column",
            )
        if counts.min() < 2:
            small = levels[counts < 2].tolist()
            raise InputDataError(
                f"batches {small} have a single training sample; their variance cannot be estimated",
                where=where,
                fix="merge the small batches with others or drop the batch correction",
            )
        batch_means = np.stack([x[codes == b].mean(axis=0) for b in range(levels.size)])
        mean = x.mean(axis=0)
        pooled = ((x - batch_means[codes]) ** 2).mean(axis=0)
        scale = np.where(pooled > _FLOOR, np.sqrt(pooled), 1.0)
        z = (x - mean) / scale
        gamma_hat = np.stack([z[codes == b].mean(axis=0) for b in range(levels.size)])
        delta_hat = np.stack([z[codes == b].var(axis=0, ddof=1) for b in range(levels.size)])
        delta_hat = np.maximum(delta_hat, _FLOOR)
        gamma, delta = gamma_hat, delta_hat
        if empirical_bayes:
            gamma = np.empty_like(gamma_hat)
            delta = np.empty_like(delta_hat)
            for b in range(levels.size):
                gamma[b], delta[b] = _shrink(z[codes == b], gamma_hat[b], delta_hat[b])
        return cls(levels, mean, scale, gamma, delta, gamma_hat, delta_hat, bool(empirical_bayes))

    def transform(self, values: np.ndarray, batches, *, where: str = "data") -> np.ndarray:
        """Adjust values (samples × genes, training gene order) of samples from training batches.

        Parameters
        ----------
        values
            Expression on the scale the correction was fitted on.
        batches
            Batch of each sample; every batch must have been seen in training.
        where
            What an error names as the place of a problem.

        Returns
        -------
        numpy.ndarray
            The corrected values, float64.
        """
        x = np.asarray(values, dtype=np.float64)
        labels = np.asarray(batches).astype(str)
        position = {level: i for i, level in enumerate(self.levels)}
        unseen = sorted(set(labels) - set(position))
        if unseen:
            raise InputDataError(
                f"batches {unseen[:5]} were not seen in training; their correction is unknown "
                f"(training batches: {', '.join(self.levels)})",
                where=where,
                fix="correct only samples from the training batches, or retrain with them",
            )
        codes = np.fromiter((position[v] for v in labels), dtype=np.int64, count=labels.size)
        z = (x - self.mean) / self.scale
        return self.scale * (z - self.gamma[codes]) / np.sqrt(self.delta[codes]) + self.mean

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The state as plain arrays, keys prefixed ``combat_`` (saved beside the preprocessing).

        Returns
        -------
        dict
            Array name → array.
        """
        return {
            "combat_levels": self.levels.astype(str),
            "combat_mean": self.mean,
            "combat_scale": self.scale,
            "combat_gamma": self.gamma,
            "combat_delta": self.delta,
            "combat_gamma_hat": self.gamma_hat,
            "combat_delta_hat": self.delta_hat,
            "combat_empirical_bayes": np.array(self.empirical_bayes),
        }

    @classmethod
    def from_arrays(cls, arrays) -> BatchCorrection:
        """Rebuild from :meth:`to_arrays` output.

        Parameters
        ----------
        arrays
            Mapping holding the ``combat_`` arrays.

        Returns
        -------
        BatchCorrection
            The correction.
        """

        def get(name: str) -> np.ndarray:
            return np.asarray(arrays[f"combat_{name}"], dtype=np.float64)

        return cls(
            levels=np.asarray(arrays["combat_levels"]).astype(str),
            mean=get("mean"),
            scale=get("scale"),
            gamma=get("gamma"),
            delta=get("delta"),
            gamma_hat=get("gamma_hat"),
            delta_hat=get("delta_hat"),
            empirical_bayes=bool(arrays["combat_empirical_bayes"]),
        )


def _shrink(
    z: np.ndarray, gamma_hat: np.ndarray, delta_hat: np.ndarray, *, tol: float = 1e-4, max_iter: int = 1000
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior location and scale of one batch (Johnson et al. 2007, parametric priors).

    ``z`` holds the batch's standardised samples (n_b × genes). The location prior is normal with
    the across-gene mean and variance of ``gamma_hat``; the scale prior is inverse gamma with
    hyper-parameters matched to the across-gene mean and variance of ``delta_hat``.
    """
    n = z.shape[0]
    gamma_bar = gamma_hat.mean()
    tau2 = gamma_hat.var(ddof=1)
    m, s2 = delta_hat.mean(), delta_hat.var(ddof=1)
    if s2 <= _FLOOR or tau2 <= _FLOOR:  # no spread across genes: the prior would be a point mass
        return gamma_hat.copy(), delta_hat.copy()
    a = (2 * s2 + m**2) / s2
    b = (m * s2 + m**3) / s2
    gamma, delta = gamma_hat.copy(), delta_hat.copy()
    for _ in range(max_iter):
        new_gamma = (n * tau2 * gamma_hat + delta * gamma_bar) / (n * tau2 + delta)
        squares = ((z - new_gamma) ** 2).sum(axis=0)
        new_delta = (b + squares / 2) / (n / 2 + a - 1)
        change = max(
            np.max(np.abs(new_gamma - gamma) / np.maximum(np.abs(gamma), _FLOOR)),
            np.max(np.abs(new_delta - delta) / np.maximum(delta, _FLOOR)),
        )
        gamma, delta = new_gamma, new_delta
        if change < tol:
            break
    return gamma, delta
