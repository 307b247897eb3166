"""Rules the code keeps (GUIDE, issue 8): SQL lives in .sql files, the source registry is the only list of
sources, and no module grows past 600 lines."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from transforms.sources import source_ids, spec

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pipelines", "transforms", "warehouse")
SPECS = ROOT / "transforms" / "sources"
# The demo generator writes each source's files: its writers are keyed by source id (issue 8, item 4).
DEMO = ("pipelines/demo/",)


def _modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def _spec_file(path: Path) -> bool:
    return path.parent == SPECS and not path.name.startswith("_")


# Parsed in a fresh interpreter: CPython 3.11's AST builder keeps one recursion counter per interpreter
# (gh-106905), so a parse beside the threads earlier tests leave behind can fail with a spurious
# "AST constructor recursion depth mismatch" SystemError.
_SQL_STRINGS = """
import ast, json, re, sys
found = []
for name in sys.argv[1:]:
    for node in ast.walk(ast.parse(open(name).read())):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str) and "\\n" in node.value.strip()
                and re.search(r"\\bselect\\b", node.value, re.I) and re.search(r"\\bfrom\\b", node.value, re.I)):
            found.append(f"{name}:{node.lineno}")
print(json.dumps(found))
"""


def test_no_multi_line_sql_in_a_python_string() -> None:
    names = [path.relative_to(ROOT).as_posix() for path in _modules()]
    done = subprocess.run(
        [sys.executable, "-c", _SQL_STRINGS, *names], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout) == []


def test_no_source_id_is_named_outside_its_spec_and_mapping() -> None:
    ids = re.compile("|".join(rf"\b{re.escape(s)}\b" for s in source_ids()))
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*"))
        if path.suffix in (".py", ".sql", ".toml")
        and path.parent != SPECS
        and not path.relative_to(ROOT).as_posix().startswith(DEMO)
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if ids.search(line) and not line.lstrip().startswith(("#", "--"))
    ]
    assert offenders == []


def test_no_branch_on_a_source_id_outside_a_spec() -> None:
    branch = re.compile(r"\bsource\s*(==|!=)\s*['\"]|\bsource\s+(not\s+)?in\s*[(\[{]")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _modules()
        if not _spec_file(path)
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if branch.search(line)
    ]
    assert offenders == []


def test_no_module_is_over_600_lines() -> None:
    sizes = {p.relative_to(ROOT).as_posix(): len(p.read_text().splitlines()) for p in _modules()}
    assert {name: n for name, n in sizes.items() if n > 600} == {}


def test_every_spec_has_its_mapping_beside_it() -> None:
    for source in source_ids():
        found = spec(source)
        assert found.mapping == SPECS / f"{source}.sql", source
        assert found.mapping.is_file(), source
