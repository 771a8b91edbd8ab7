"""Train a classifier on simulated expression data, explain it with Integrated Gradients and
measure how many of the top attributed genes are truly informative (feature agreement)."""

import numpy as np

from exprlab.evaluate import feature_agreement
from exprlab.explain import integrated_gradients
from exprlab.models import ExpressionClassifier
from exprlab.simulate import simulate_lda

adata = simulate_lda("SIMU1", n_classes=4, n_per_class=80, n_genes=1000, seed=0)
train, test = adata[::2].copy(), adata[1::2].copy()

clf = ExpressionClassifier("lr", seed=0, log2=True).fit(train, "class")
accuracy = clf.score(test)
print(f"balanced accuracy on held-out samples: {accuracy:.3f}")
assert accuracy > 0.5

labels = np.asarray(test.obs["class"]).astype(str)
target = np.array([clf.class_index(c) for c in labels])
inputs = clf.transform(test)  # log2 + z-score with training statistics
attributions = integrated_gradients(clf.module_, inputs, None, target=target, n_steps=50)
assert attributions.shape == inputs.shape

fa = feature_agreement(
    attributions,
    labels,
    adata.uns["ground_truth"],
    var_names=list(adata.var_names),
    predictions=clf.predict(test),
)
chance = np.mean([len(g) / adata.n_vars for g in adata.uns["ground_truth"].values()])
print(f"feature agreement local {fa.local:.2f}, global {fa.global_:.2f} (random ranking {chance:.2f})")
assert fa.local > chance
