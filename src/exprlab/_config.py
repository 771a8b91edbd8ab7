"""Where exprlab finds the public data directory.

``EXPRLAB_DATA`` names it; without it, ``../shared/data`` beside the project checkout is tried
(the layout the developers and CI use).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, overload

from exprlab.errors import DataNotFoundError


@overload
def data_dir(required: Literal[True] = True) -> Path: ...
@overload
def data_dir(required: bool) -> Path | None: ...
def data_dir(required: bool = True) -> Path | None:
    """The public data directory: ``EXPRLAB_DATA``, else ``../shared/data`` beside the checkout.

    When ``EXPRLAB_DATA`` is set, only that folder is tried: a mistyped value is reported, not
    replaced by the default folder.

    Parameters
    ----------
    required
        Raise :class:`~exprlab.errors.DataNotFoundError` when no directory is found, instead of
        returning ``None``.

    Returns
    -------
    pathlib.Path or None
        The directory, or ``None`` when it is absent and not ``required``.
    """
    env = os.environ.get("EXPRLAB_DATA")
    # a folder named by EXPRLAB_DATA is never silently replaced by the default one
    candidates = [Path(env)] if env else [Path(__file__).resolve().parents[3] / "shared" / "data"]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    if required:
        raise DataNotFoundError(
            "the public data directory was not found",
            where=f"EXPRLAB_DATA={env}" if env else "EXPRLAB_DATA (unset)",
            fix="set EXPRLAB_DATA to an existing folder that holds lincs/, cmap02/, opentargets/ ...",
        )
    return None


def data_file(relative: str) -> Path:
    """Path of one file of the public data directory.

    Parameters
    ----------
    relative
        The file's path inside the data directory (``"lincs/geneinfo_beta.txt.gz"``).

    Returns
    -------
    pathlib.Path
        The absolute path; :class:`~exprlab.errors.DataNotFoundError` when the file is absent.
    """
    root = data_dir(required=True)
    path = root / relative
    if not path.is_file():
        raise DataNotFoundError(
            f"dataset file {relative} is absent",
            where=path,
            fix="set EXPRLAB_DATA to the public data directory that holds it",
        )
    return path
