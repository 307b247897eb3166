"""Landing → raw/ (immutable, by sha256, with an append-only manifest) or quarantine/ (with a reason).

Every landed file ends in exactly one of the two. A file is validated by its source's own parser
before it is accepted, so the manifest can record the dates it covers and the line counts
(parsed = loaded + rejected). Landing the same bytes twice is a no-op.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from pipelines.config import Settings
from pipelines.storage import append_jsonl
from transforms.common import RawFile, UnreadableFile
from transforms.sources import PARSERS

MANIFEST_SCHEMA = pl.Schema(
    {
        "seq": pl.Int64,
        "sha256": pl.String,
        "source": pl.String,
        "name": pl.String,
        "owner": pl.String,
        "raw_path": pl.String,
        "bytes": pl.Int64,
        "landed_at": pl.Datetime("us", "UTC"),
        "min_date": pl.Date,
        "max_date": pl.Date,
        "parsed": pl.Int64,
        "loaded": pl.Int64,
        "rejected": pl.Int64,
    }
)
_SUFFIXES = (".gz", ".zst", ".zstd")


@dataclass(frozen=True)
class Outcome:
    """What happened to one landed file: `landed`, `duplicate` or `quarantined`."""

    source: str
    name: str
    status: str
    sha256: str
    path: Path
    parsed: int = 0
    loaded: int = 0
    rejected: int = 0
    reason: str = ""

    def line(self) -> str:
        """The one line `tokencomp ingest` prints for this file."""
        if self.status == "quarantined":
            return f"quarantined  {self.source}  {self.name}: {self.reason}"
        counts = f"parsed {self.parsed}, loaded {self.loaded}, rejected {self.rejected}"
        if self.status == "duplicate":
            return f"duplicate    {self.source}  {self.name} (already in raw as {self.sha256[:12]})"
        return f"landed       {self.source}  {self.name}  {counts}"


def sha256_of(path: Path) -> str:
    """Streamed sha256 of a file's bytes: the identity of a delivery in raw/."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _visible(path: Path, root: Path) -> bool:
    return not any(part.startswith(("_", ".")) for part in path.relative_to(root).parts)


def discover(source: str, paths: Sequence[Path]) -> list[tuple[Path, str, str | None]]:
    """List (file, display name, owner) for the given paths, skipping `_`/`.` scratch parts.

    For `claude_code_logs` the owner is the engineer's email: a path holding `projects/` is one
    engineer's folder named after them; otherwise each folder directly under the path is one.
    """
    found: list[tuple[Path, str, str | None]] = []
    for given in paths:
        if not given.exists():
            raise FileNotFoundError(f"{given}: no such file or directory")
        if source == "claude_code_logs":
            if not given.is_dir():
                raise ValueError(f"{given}: claude_code_logs expects a folder named after an engineer's email")
            owners = [given] if (given / "projects").is_dir() else sorted(p for p in given.iterdir() if p.is_dir())
            for owner_dir in owners:
                if owner_dir.name.startswith(("_", ".")):
                    continue
                for f in sorted(owner_dir.rglob("*")):
                    if f.is_file() and _visible(f, owner_dir) and ".jsonl" in f.suffixes:
                        found.append((f, f"{owner_dir.name}/{f.relative_to(owner_dir)}", owner_dir.name.lower()))
        elif given.is_dir():
            for f in sorted(given.rglob("*")):
                if f.is_file() and _visible(f, given):
                    found.append((f, str(f.relative_to(given.parent)), None))
        else:
            found.append((given, given.name, None))
    return found


@contextmanager
def _locked(settings: Settings) -> Iterator[None]:
    settings.raw.mkdir(parents=True, exist_ok=True)
    with (settings.raw / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def read_manifest(settings: Settings) -> pl.DataFrame:
    """All deliveries accepted into raw/, in manifest (sequence) order."""
    path = settings.raw / "manifest.jsonl"
    if not path.exists() or path.stat().st_size == 0:
        return MANIFEST_SCHEMA.to_frame()
    return pl.read_ndjson(path, schema=MANIFEST_SCHEMA).sort("seq")


def raw_files(settings: Settings, manifest: pl.DataFrame) -> list[RawFile]:
    """Handles for parsers on the given manifest rows."""
    return [
        RawFile(
            path=settings.raw / r["raw_path"],
            sha256=r["sha256"],
            source=r["source"],
            seq=r["seq"],
            landed_at=r["landed_at"],
            name=r["name"],
            provenance={"owner": r["owner"]} if r["owner"] else {},
        )
        for r in manifest.iter_rows(named=True)
    ]


def _suffix(name: str) -> str:
    suffixes = Path(name).suffixes[-2:]
    return "".join(s for s in suffixes if s.isascii() and len(s) <= 6).lower()


def _quarantine(settings: Settings, source: str, path: Path, name: str, sha: str, reason: str, at: datetime) -> None:
    target = settings.quarantine / source / f"{sha}{_suffix(name)}"
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        shutil.copyfile(path, target)
    append_jsonl(
        settings.quarantine / "quarantine.jsonl",
        [{"source": source, "name": name, "sha256": sha, "reason": reason, "quarantined_at": at.isoformat()}],
    )


def _check(source: str, candidates: list[RawFile]) -> dict[str, tuple[pl.DataFrame | None, pl.DataFrame, str]]:
    """Validate files with their parser: one batch, then file by file if the batch has a broken one.

    Returns sha256 → (per-file stats, rejected lines, reason); stats is None for an unreadable file.
    """
    try:
        result = PARSERS[source](candidates)
    except UnreadableFile as exc:
        if len(candidates) == 1:
            return {candidates[0].sha256: (None, pl.DataFrame(), str(exc))}
        out: dict[str, tuple[pl.DataFrame | None, pl.DataFrame, str]] = {}
        for f in candidates:
            out.update(_check(source, [f]))
        return out
    return {
        f.sha256: (
            result.stats.filter(pl.col("raw_sha256") == f.sha256),
            result.rejects.filter(pl.col("raw_sha256") == f.sha256),
            "",
        )
        for f in candidates
    }


def ingest(
    settings: Settings,
    source: str,
    paths: Sequence[Path],
    *,
    landed_at: datetime | None = None,
) -> list[Outcome]:
    """Land files of one source into raw/ (or quarantine/) and return one outcome per file.

    `landed_at` defaults to now; the demo passes a fixed instant so its lake is reproducible.
    """
    if source not in PARSERS:
        raise ValueError(f"unknown source {source!r}; `tokencomp sources` lists them")
    at = (landed_at or datetime.now(UTC)).astimezone(UTC)
    found = discover(source, paths)
    outcomes: list[Outcome] = []
    with _locked(settings):
        manifest = read_manifest(settings)
        known = {(r["sha256"], r["owner"]) for r in manifest.select("sha256", "owner").iter_rows(named=True)}
        quarantined = _quarantined(settings)
        seq = int(manifest["seq"].max() or 0) if manifest.height else 0
        fresh: list[tuple[RawFile, Path]] = []
        for path, name, owner in found:
            sha = sha256_of(path)
            if (sha, owner) in known or any(f.sha256 == sha and f.provenance.get("owner") == owner for f, _ in fresh):
                outcomes.append(Outcome(source, name, "duplicate", sha, path))
                continue
            if sha in quarantined:
                outcomes.append(
                    Outcome(source, name, "quarantined", sha, path, reason=f"already quarantined: {quarantined[sha]}")
                )
                continue
            seq += 1
            prov = {"owner": owner} if owner else {}
            fresh.append((RawFile(path, sha, source, seq, at, name, prov), path))
        if not fresh:
            return outcomes
        checked = _check(source, [f for f, _ in fresh])
        manifest_rows: list[dict[str, object]] = []
        reject_rows: list[dict[str, object]] = []
        for f, path in fresh:
            stats, rejects, reason = checked[f.sha256]
            if stats is None or stats.height == 0:
                _quarantine(settings, source, path, f.name, f.sha256, reason or "no readable content", at)
                outcomes.append(Outcome(source, f.name, "quarantined", f.sha256, path, reason=reason))
                continue
            s = stats.row(0, named=True)
            parsed, loaded, rejected = int(s["parsed"]), int(s["loaded"]), int(s["rejected"])
            if parsed and rejected / parsed > settings.max_rejected_share:
                why = f"{rejected} of {parsed} lines rejected (over {settings.max_rejected_share:.0%}); first: " + (
                    _describe(rejects.row(0, named=True)) if rejects.height else "?"
                )
                _quarantine(settings, source, path, f.name, f.sha256, why, at)
                outcomes.append(Outcome(source, f.name, "quarantined", f.sha256, path, parsed, 0, rejected, why))
                continue
            rel = Path(source) / f.sha256[:2] / f"{f.sha256}{_suffix(f.name)}"
            target = settings.raw / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                tmp = target.with_name(f".{target.name}.tmp")
                shutil.copyfile(path, tmp)
                os.replace(tmp, target)
            manifest_rows.append(
                {
                    "seq": f.seq,
                    "sha256": f.sha256,
                    "source": source,
                    "name": f.name,
                    "owner": f.provenance.get("owner"),
                    "raw_path": str(rel),
                    "bytes": path.stat().st_size,
                    "landed_at": at.isoformat(),
                    "min_date": _iso(s["min_date"]),
                    "max_date": _iso(s["max_date"]),
                    "parsed": parsed,
                    "loaded": loaded,
                    "rejected": rejected,
                }
            )
            reject_rows.extend({"source": source, **r} for r in rejects.iter_rows(named=True))
            outcomes.append(Outcome(source, f.name, "landed", f.sha256, path, parsed, loaded, rejected))
        append_jsonl(settings.raw / "rejects.jsonl", reject_rows)
        append_jsonl(settings.raw / "manifest.jsonl", manifest_rows)
    return outcomes


def _quarantined(settings: Settings) -> dict[str, str]:
    """sha256 → reason of every file quarantined so far, so a re-sweep does not quarantine it twice."""
    log = settings.quarantine / "quarantine.jsonl"
    if not log.exists() or log.stat().st_size == 0:
        return {}
    frame = pl.read_ndjson(log, schema={"sha256": pl.String, "reason": pl.String})
    return dict(zip(frame["sha256"].to_list(), frame["reason"].to_list(), strict=True))


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d is not None else None


def _describe(reject: dict[str, object]) -> str:
    where = f"{reject['file']}:{reject['line']}" if reject.get("line") is not None else str(reject["file"])
    field = f" field {reject['field']!r}:" if reject.get("field") else ":"
    return f"{where}{field} {reject['reason']}"


def sweep_landing(settings: Settings, source: str, *, landed_at: datetime | None = None) -> list[Outcome]:
    """Ingest whatever is waiting in landing/<source>/ (the nightly run's first step).

    landing/ is an inbox: once a file is safely in raw/ or quarantine/ (or was already there), it is
    removed from landing, so the next sweep only reads new deliveries.
    """
    folder = settings.landing / source
    if not folder.is_dir() or not any(folder.iterdir()):
        return []
    outcomes = ingest(settings, source, [folder], landed_at=landed_at)
    for o in outcomes:
        o.path.unlink(missing_ok=True)
    for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(sub.iterdir()):
            sub.rmdir()
    return outcomes
