"""exprlab: machine learning on gene expression.

Two jobs: match drugs to diseases by transcriptomic signatures (connectivity scores and a
learned matcher, with honest retrieval benchmarks), and explain gene-expression classifiers
with Integrated Gradients, testing the explanations against ground truth.
"""

from exprlab.errors import ExprlabError

__version__ = "0.1.0"

__all__ = ["ExprlabError", "__version__"]
