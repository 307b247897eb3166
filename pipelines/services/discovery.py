"""Which files a landing path holds: one engineer's folder per owner, scratch parts skipped, symlinks
out of landing/ and special files refused (never opened)."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from transforms.sources import spec


def _visible(path: Path, root: Path) -> bool:
    return not any(part.startswith(("_", ".")) for part in path.relative_to(root).parts)


@dataclass(frozen=True)
class Refused:
    """A landing entry that is never read: a symlink out of landing/, or a path that is no regular file."""

    path: Path
    name: str
    reason: str


def _inside(path: Path, root: Path) -> bool:
    return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(root))


def _walk(root: Path, inbox: Path | None, refused: list[Refused], display: Path) -> list[Path]:
    """Regular files under `root`, sorted, not following symlinked folders.

    In the inbox (`inbox` set) a symlink whose target lies outside it is refused, never read; a symlink
    inside it is read like the file it names. Sockets, FIFOs and devices are refused, never opened.
    """
    found: list[Path] = []
    for folder, dirs, names in os.walk(root):
        base = Path(folder)
        dirs[:] = sorted(d for d in dirs if not d.startswith(("_", ".")))
        for d in dirs:
            if (base / d).is_symlink() and inbox is not None and not _inside(base / d, inbox):
                refused.append(
                    Refused(
                        base / d,
                        str((base / d).relative_to(display)),
                        "symlink to a folder outside landing/ (not read)",
                    )
                )
        for n in sorted(names):
            f = base / n
            if not _visible(f, root):
                continue
            name = str(f.relative_to(display))
            if f.is_symlink() and inbox is not None and not _inside(f, inbox):
                refused.append(Refused(f, name, "symlink to a file outside landing/ (not read)"))
            elif f.is_symlink() and not f.exists():
                refused.append(Refused(f, name, "broken symlink (not read)"))
            elif not stat.S_ISREG(f.stat().st_mode):
                refused.append(Refused(f, name, "not a regular file (not read)"))
            else:
                found.append(f)
    return found


def _given(path: Path) -> None:
    """A path named by the user must be a regular file or a folder (a FIFO or /dev/zero would hang)."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    mode = path.stat().st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise ValueError(f"{path}: not a regular file or folder")


def discover(
    source: str, paths: Sequence[Path], *, inbox: Path | None = None, refused: list[Refused] | None = None
) -> list[tuple[Path, str, str | None]]:
    """List (file, display name, owner) for the given paths, skipping `_`/`.` scratch parts.

    For a source whose spec finds the owner in the engineer email folder (Claude Code logs), a
    path holding `projects/` is one engineer's folder named after them; otherwise each folder directly
    under the path is one.
    Paths named by the user may be symlinks; with `inbox` (the landing folder being swept), entries
    that point outside it are not read but added to `refused`, with their reason.
    """
    refused = refused if refused is not None else []
    found: list[tuple[Path, str, str | None]] = []
    for given in paths:
        _given(given)
        if spec(source).owner == "email_folder":
            if not given.is_dir():
                raise ValueError(f"{given}: {source} expects a folder named after an engineer's email")
            owners = [given] if (given / "projects").is_dir() else sorted(p for p in given.iterdir() if p.is_dir())
            for owner_dir in owners:
                if owner_dir.name.startswith(("_", ".")):
                    continue
                if owner_dir.is_symlink() and inbox is not None and not _inside(owner_dir, inbox):
                    refused.append(
                        Refused(owner_dir, owner_dir.name, "symlink to a folder outside landing/ (not read)")
                    )
                    continue
                for f in _walk(owner_dir, inbox, refused, owner_dir):
                    if f".{spec(source).format}" in f.suffixes:
                        found.append((f, f"{owner_dir.name}/{f.relative_to(owner_dir)}", owner_dir.name.lower()))
        elif given.is_dir():
            for f in _walk(given, inbox, refused, given.parent):
                found.append((f, str(f.relative_to(given.parent)), None))
        else:
            found.append((given, given.name, None))
    return found
