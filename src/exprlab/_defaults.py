"""Defaults shared by the Python API and the CLI, so that one concept has one default everywhere.

Every function and command that takes the concept uses the constant named here;
``tests/test_conventions.py`` checks that the CLI options and the public functions agree with it.
"""

from __future__ import annotations

#: Gauss–Legendre quadrature steps of Integrated Gradients (docs/methods.md §3, "Default step
#: count"): from 128 steps on, the completeness gap of every explained example of the study's MLP
#: is below the paper's 0.01 rerun threshold on the demo and on the full-size SIMU1 design (that of
#: a logistic regression is at float precision from 32); the paper's 3,000 is passed explicitly
#: where the paper is reproduced.
N_STEPS = 128
