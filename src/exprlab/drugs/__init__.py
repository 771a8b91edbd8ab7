"""Drug-name normalisation and matching across catalogues.

Catalogues spell the same compound differently: CMap 02 writes ``trichostatin A``, ChEMBL
``TRICHOSTATIN A``, DrugBank ``Trichostatin A``; LINCS uses ``trichostatin-a``; salts appear as
``metformin hydrochloride``. exprlab joins them on a *normalised* name.

The base rule (the one the public data README uses to count the repurposing benchmark) is:
fold accents to ASCII, lower-case, remove every character that is not a letter or a digit. So
``trichostatin A``, ``TRICHOSTATIN A`` and ``trichostatin-a`` all become ``trichostatina``.

An optional second rule (``strip_salts=True``) first removes trailing salt and hydrate words
(``hydrochloride``, ``sodium``, ``mesylate``, ``monohydrate`` ...) so that ``metformin
hydrochloride`` matches ``metformin``. It is off by default because it changes which compounds
count as the same (a salt and its free base are pharmacologically the same drug, but the counts
in the data README use the base rule only). It is a word-list heuristic: it also joins esters
(``cortisone`` with ``CORTISONE ACETATE``) and can join different molecules (``adenosine
phosphate``, i.e. AMP, with ``ADENOSINE``), so :func:`match_drug_names` marks such matches
``how="salt"`` for review.
"""

from exprlab._drug_names import SALT_WORDS, normalize_drug_name
from exprlab.drugs._matching import match_drug_names

__all__ = ["SALT_WORDS", "match_drug_names", "normalize_drug_name"]
