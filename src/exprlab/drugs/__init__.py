"""Drug-name normalisation and matching across catalogues.

Catalogues spell the same compound differently: CMap 02 writes ``trichostatin A``, ChEMBL
``TRICHOSTATIN A``, DrugBank ``Trichostatin A``; LINCS uses ``trichostatin-a``; salts appear as
``metformin hydrochloride``. exprlab joins them on a *normalised* name.

The base rule (the one the public data README uses to count the repurposing benchmark) is:
fold accents to ASCII, lower-case, remove every character that is not a letter or a digit. So
``trichostatin A``, ``TRICHOSTATIN A`` and ``trichostatin-a`` all become ``trichostatina``.

A second rule (``strip_salts=True``) first removes trailing salt, hydrate and ester words
(:data:`SALT_WORDS`: ``hydrochloride``, ``sodium``, ``mesylate``, ``monohydrate``, ``acetate``,
``valerate`` ...) so that ``metformin hydrochloride`` matches ``metformin`` and ``DEXAMETHASONE
ACETATE`` matches ``dexamethasone``. The repurposing benchmark
(:func:`exprlab.datasets.repurposing_benchmark`) joins catalogues and signatures on this key and
reports which spellings it merged (:func:`salt_merges`); :func:`normalize_drug_name` keeps it off
by default because it changes which compounds count as the same. It is a word-list heuristic:
it joins esters with their parent (``cortisone`` with ``CORTISONE ACETATE``) and can join
different molecules (``adenosine phosphate``, i.e. AMP, with ``ADENOSINE``), so
:func:`match_drug_names` marks such matches ``how="salt"`` for review. A word is never removed
after an alkyl group (``DIMETHYL FUMARATE`` stays whole).
"""

from exprlab._drug_names import SALT_WORDS, normalize_drug_name, salt_merges
from exprlab.drugs._matching import match_drug_names

__all__ = ["SALT_WORDS", "match_drug_names", "normalize_drug_name", "salt_merges"]
