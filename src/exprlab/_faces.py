"""Package faces whose heavy members load on first use (PEP 562).

``import exprlab.explain`` should not cost the user torch's import time (or require torch at all)
when they only want enrichment statistics. A face lists such members by the private module that
defines them; the module is imported the first time one of its names is read, and the name is
then cached in the package namespace like an ordinary import.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_members"]


def lazy_members(
    package: str, members: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Build the ``__getattr__`` and ``__dir__`` of a package face with lazily loaded members.

    Parameters
    ----------
    package
        The package's ``__name__``.
    members
        Public name → private module (relative to the package) that defines it.
    namespace
        The package's ``globals()``: loaded names are cached there.

    Returns
    -------
    tuple
        ``(__getattr__, __dir__)`` to assign at the package's top level.
    """

    def __getattr__(name: str) -> Any:
        module = members.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(members))

    return __getattr__, __dir__
