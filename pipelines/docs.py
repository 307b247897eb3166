"""Regenerate docs/data-dictionary.md from the warehouse models' COMMENTs (`make docs`)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from pipelines.warehouse import build_inputs
from warehouse.build import build
from warehouse.dictionary import describe


def data_dictionary() -> str:
    """The dictionary text: the warehouse built on no data, described (its schema does not depend on data)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "warehouse.duckdb"
        build(build_inputs(None), path)
        return describe(path)


def main(argv: list[str]) -> int:
    """Write the dictionary to the path given (default docs/data-dictionary.md)."""
    target = Path(argv[0] if argv else "docs/data-dictionary.md")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(data_dictionary())
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
