"""Where each public dataset comes from, under which licence, and how to fetch a checked copy.

Every file of the data directory has a checksum in ``registry.tsv`` (package data). The origins
below name the public project each file was taken from. Where the project serves the very same
bytes, the registry also records that upstream URL (pinned to a commit), and ``--fetch NAME``
downloads from it; many files were renamed or recompressed when the directory was assembled, and
those come from a mirror of the directory's layout (``--from URL``: any HTTP(S) or FTP server
holding ``lincs/``, ``cmap02/`` ...). Every download is checked against the registry, never
trusted on its name.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from exprlab._config import data_dir
from exprlab._outputs import file_sha256
from exprlab.errors import DataNotFoundError, FileAccessError, FormatError, InvalidParameterError


@dataclass(frozen=True)
class Source:
    """The public origin of a group of data files.

    Parameters
    ----------
    origin
        The project or publication the files come from.
    licence
        The licence (or terms of use) the files carry.
    url
        The origin's public address.
    """

    origin: str
    licence: str
    url: str


_SOURCES = {
    "dgem": Source(
        "healx/dgem-nn-public, code of arXiv:2303.11695",
        "code repository terms; LINCS data CC BY 4.0",
        "https://github.com/healx/dgem-nn-public",
    ),
    "signaturesearch": Source(
        "signatureSearch (Bioconductor) test data",
        "Artistic-2.0",
        "https://github.com/girke-lab/signatureSearch",
    ),
    "signaturesearchdata": Source(
        "signatureSearchData (Bioconductor)",
        "Artistic-2.0",
        "https://github.com/girke-lab/signatureSearchData",
    ),
    "cmappy": Source("cmapPy test data (Broad Institute)", "BSD-3-Clause", "https://github.com/cmap/cmapPy"),
    "cogena": Source(
        "cogena package data (CMap build 02, Broad)", "LGPL-3", "https://github.com/zhilongjia/cogena"
    ),
    "ps4dr": Source(
        "ps4dr repository (Open Targets, Expression Atlas)", "Apache-2.0", "https://github.com/ps4dr/ps4dr"
    ),
    "repodb": Source(
        "repoDB (Brown and Patel, Sci. Data 2017)",
        "no licence stated by the source",
        "https://doi.org/10.1038/sdata.2017.29",
    ),
    "pharmacotherapydb": Source(
        "PharmacotherapyDB (dhimmel/indications)", "CC0-1.0", "https://github.com/dhimmel/indications"
    ),
    "drugcentral": Source(
        "DrugCentral via dhimmel/drugcentral",
        "CC0-1.0 and CC BY 4.0",
        "https://github.com/dhimmel/drugcentral",
    ),
    "blitzgsea": Source("blitzgsea test data (GTEx)", "Apache-2.0", "https://github.com/MaayanLab/blitzgsea"),
    "bioc-all": Source(
        "Bioconductor ALL package (Chiaretti et al. 2004), Debian r-bioc-all",
        "Artistic-2.0",
        "https://bioconductor.org/packages/ALL/",
    ),
    "gseapy": Source("GSEApy test data", "BSD-3-Clause", "https://github.com/zqfang/GSEApy"),
    "mixomics": Source(
        "mixOmics package data", "GPL-2.0-or-later", "https://github.com/mixOmicsTeam/mixOmics"
    ),
    "msigdb": Source(
        "MSigDB / KEGG / Reactome / Enrichr gene sets, via GSEApy, cogena and Debian r-bioc-qusage",
        "MSigDB and KEGG terms of use",
        "https://www.gsea-msigdb.org/gsea/msigdb/",
    ),
}

#: the source of each file, by the first matching path prefix (most specific first)
_PREFIXES: tuple[tuple[str, str], ...] = (
    ("lincs/geneinfo_beta", "dgem"),
    ("lincs/lincs_", "signaturesearch"),
    ("lincs/sample_n2x12328", "signaturesearch"),
    ("lincs/test_gene_sets", "signaturesearch"),
    ("lincs/", "cmappy"),
    ("cmap02/cmap_instances", "signaturesearchdata"),
    ("cmap02/", "cogena"),
    ("opentargets/", "ps4dr"),
    ("indications/repodb", "repodb"),
    ("indications/pharmacotherapydb", "pharmacotherapydb"),
    ("indications/drugcentral", "drugcentral"),
    ("disease_samples/psoriasis", "cogena"),
    ("disease_samples/gtex", "blitzgsea"),
    ("dgem/", "dgem"),
    ("expression/ALL_", "bioc-all"),
    ("expression/copyright_r-bioc-all", "bioc-all"),
    ("expression/Leukemia", "gseapy"),
    ("expression/", "mixomics"),
    ("genesets/", "msigdb"),
)


def source_of(relative: str) -> Source:
    """The public origin of one data file.

    Parameters
    ----------
    relative
        The file's path inside the data directory (``"lincs/geneinfo_beta.txt.gz"``).

    Returns
    -------
    Source
        Its origin, licence and address.
    """
    for prefix, key in _PREFIXES:
        if relative.startswith(prefix):
            return _SOURCES[key]
    raise DataNotFoundError("no origin is recorded for this file", where=relative)


def registry() -> dict[str, tuple[str, int]]:
    """The checksum registry of the data directory.

    Returns
    -------
    dict
        Relative path → (sha256 hex digest, size in bytes).
    """
    return {path: (digest, size) for path, digest, size, _url in _registry_rows()}


def upstream_urls() -> dict[str, str]:
    """The public upstream URL of each data file that its origin serves byte for byte.

    Returns
    -------
    dict
        Relative path → URL (pinned to a commit), for the files that have one; the others are
        fetched from a mirror (``--from``).
    """
    return {path: url for path, _digest, _size, url in _registry_rows() if url}


def _registry_rows() -> list[tuple[str, str, int, str]]:
    text = resources.files("exprlab.datasets").joinpath("registry.tsv").read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            path, digest, size, *rest = line.split("\t")
            rows.append((path, digest, int(size), rest[0].strip() if rest else ""))
    return rows


def fetch_files(
    files: tuple[str, ...], *, mirror: str | None = None, to: str | os.PathLike | None = None
) -> list[Path]:
    """Download data files (from their upstream URLs or a mirror) and check them against the registry.

    A file already present with the registered checksum is kept as it is; a present file with
    another checksum is refused (exprlab does not replace files it did not write); a download
    whose checksum differs is discarded and reported.

    Parameters
    ----------
    files
        Paths inside the data directory (as in :data:`DATASETS` ``files``).
    mirror
        Base URL of a copy of the data directory's layout (``https://host/exprlab-data/``);
        ``None`` downloads each file from its upstream URL (:func:`upstream_urls`), and refuses
        before downloading anything when a file has none.
    to
        The data directory to fill; default: ``EXPRLAB_DATA`` (created when it does not exist).

    Returns
    -------
    list of pathlib.Path
        The local paths, in the order of ``files``.
    """
    import pooch  # deferred: downloads are rare, listing datasets is not

    target = _target(to)
    known = registry()
    unknown = [f for f in files if f not in known]
    if unknown:
        raise DataNotFoundError("the file is not in the checksum registry", where=", ".join(unknown))
    urls = _download_urls(files, mirror)
    out = []
    for relative in files:
        digest, _size = known[relative]
        local = target / relative
        if local.exists():
            if file_sha256(local) != digest:
                raise FileAccessError(
                    "a different file already exists here",
                    where=local,
                    fix="move it away (exprlab does not replace files it did not write), then fetch again",
                )
            out.append(local)
            continue
        url = urls[relative]
        try:
            got = pooch.retrieve(
                url, known_hash=f"sha256:{digest}", fname=local.name, path=local.parent, progressbar=False
            )
        except ValueError as exc:  # pooch reports a checksum mismatch as ValueError
            raise FormatError(
                "the downloaded file does not match the registry's sha256 and was discarded",
                where=url,
                fix="check that the source (--from, or the upstream URL) serves an unmodified copy",
            ) from exc
        except Exception as exc:  # network and HTTP errors come from requests/urllib
            raise FileAccessError(
                f"download failed ({type(exc).__name__}: {exc})",
                where=url,
                fix="check the mirror address and the network",
            ) from exc
        out.append(Path(got))
    return out


def _download_urls(files: tuple[str, ...], mirror: str | None) -> dict[str, str]:
    """Where each file is downloaded from: the mirror when given, else its upstream URL."""
    if mirror is not None:
        return {f: mirror.rstrip("/") + "/" + f for f in files}
    upstream = upstream_urls()
    missing = [f for f in files if f not in upstream]
    if missing:
        raise DataNotFoundError(
            f"no public upstream URL serves {', '.join(missing)} as registered (renamed or recompressed)",
            where="--fetch",
            fix="pass --from URL, a copy of the data directory's layout; "
            "`exprlab datasets --sources` shows which datasets download without one",
        )
    return {f: upstream[f] for f in files}


def _target(to: str | os.PathLike | None) -> Path:
    if to is not None:
        return Path(to)
    env = os.environ.get("EXPRLAB_DATA")
    if env:
        return Path(env)
    found = data_dir(required=False)
    if found is None:
        raise InvalidParameterError(
            "no data directory to fetch into",
            where="--to",
            fix="pass --to DIR or set EXPRLAB_DATA",
        )
    return found
