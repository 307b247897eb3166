"""Sources: the registry (`transforms.sources._registry`) and one spec module per source id.

Every module of this package whose name does not start with `_` is a source: it defines `SPEC` (its
`SourceSpec`) and ships its mapping SQL beside it. Importing the package registers them all, in name
order; `parser(source)` gives the shared reader of the source's format applied to its spec.
"""

from __future__ import annotations

import importlib
import pkgutil

from transforms.sources._registry import (
    SourceSpec,
    catalog_providers,
    check,
    default_roles,
    is_source,
    parse,
    parser,
    per_request_sources,
    register,
    source_ids,
    spec,
    specs,
    unregister,
)

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")):
    register(importlib.import_module(f"{__name__}.{_module}").SPEC)

__all__ = [
    "SourceSpec",
    "catalog_providers",
    "check",
    "default_roles",
    "is_source",
    "parse",
    "parser",
    "per_request_sources",
    "register",
    "source_ids",
    "spec",
    "specs",
    "unregister",
]
