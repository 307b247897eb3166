"""tests.conftest.built_once: a shared set-up is built once per session, by whichever caller (thread, xdist
worker) comes first, and built again when a build failed part-way."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.conftest import built_once


def test_concurrent_callers_get_one_build_and_the_same_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    builds: list[Path] = []
    started = threading.Barrier(4)
    seen: list[Path] = []
    tmp_path_factory.getbasetemp()  # pytest makes the session's temp root lazily, and not thread-safely

    def build(root: Path) -> None:
        builds.append(root)
        time.sleep(0.5)  # the other callers arrive meanwhile: only the lock keeps them out
        (root / "made").write_text("once")

    def call() -> None:
        started.wait(timeout=60)
        seen.append(built_once(tmp_path_factory, "built-once-concurrent", build))

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(builds) == 1
    assert len(seen) == 4 and set(seen) == {builds[0]}
    assert (builds[0] / "made").read_text() == "once"


def test_a_build_that_failed_part_way_is_built_again_from_empty(tmp_path_factory: pytest.TempPathFactory) -> None:
    def broken(root: Path) -> None:
        (root / "half").write_text("left behind")
        raise RuntimeError("the build broke")

    with pytest.raises(RuntimeError, match="the build broke"):
        built_once(tmp_path_factory, "built-once-retry", broken)
    root = built_once(tmp_path_factory, "built-once-retry", lambda r: (r / "whole").write_text("ok"))
    assert sorted(p.name for p in root.iterdir()) == [".built", "whole"]
