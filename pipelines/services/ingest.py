"""Landing → raw/ (immutable, by sha256, with an append-only manifest) or quarantine/ (with a reason).

Every landed file ends in exactly one of the two. A file is read once, as it is copied into scratch
(hashed on the way, or reflinked), and that copy is validated by its source's own parser before it is
accepted, so the manifest can record the dates it covers and the line counts (parsed = loaded +
rejected), then moved into raw/. A line source's validated lines are kept under `_parsed/` for the lake
build, which then does not parse the file again. Landing the same bytes twice is a no-op.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.config import Settings
from pipelines.services.discovery import Refused, discover
from pipelines.services.storage import append_jsonl, read_jsonl
from transforms.common import (
    InflateLimits,
    RawFile,
    UnreadableFile,
    engine_limits,
    inflate_limits,
    parsed_lines,
    scratch_dir,
)
from transforms.sources import check, is_source

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
        "outside_partitions": pl.Int64,
        # A pulled page's API request parameters (JSON: path, group_by, bucket width, cursor); null for a dropped file.
        "request": pl.String,
    }
)
QUARANTINE_SCHEMA = pl.Schema(
    {"source": pl.String, "name": pl.String, "sha256": pl.String, "reason": pl.String, "quarantined_at": pl.String}
)
# A row dated more than this after its landing is "far in the future": no partition will ever hold it.
FUTURE_SLACK = timedelta(days=1)
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
    outside_partitions: int = 0

    def line(self) -> str:
        """The one line `tokencomp ingest` prints for this file."""
        if self.status == "quarantined":
            return f"quarantined  {self.source}  {self.name}: {self.reason}"
        counts = f"parsed {self.parsed}, loaded {self.loaded}, rejected {self.rejected}"
        if self.outside_partitions:
            counts += f"; {self.outside_partitions} row(s) dated outside the partitions (in raw, in no partition)"
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


# Linux FICLONE ioctl: the copy shares the source's blocks until either changes (btrfs, XFS, bcachefs).
_FICLONE = 0x40049409


_REFLINK_DEVICES: set[int] = set()  # filesystems where a clone failed once: plain copies from then on


def copy_hashed(src: Path, dst: Path) -> str:
    """Copy `src` to a new file `dst` in bounded blocks (or reflink it), returning the sha256 of the bytes
    written. Never a hard link: raw must not change when the user's file does.

    The bytes are read once: hashed as they are copied. After a reflink the clone itself is hashed, so the
    digest is always that of the bytes raw keeps, even if the user's file changes meanwhile. `dst` is
    opened once (a truncate-and-rewrite would make ext4 flush it on close).
    """
    digest = hashlib.sha256()
    with src.open("rb") as fh, dst.open("xb") as out:
        device = os.fstat(out.fileno()).st_dev
        if device not in _REFLINK_DEVICES:
            try:
                fcntl.ioctl(out.fileno(), _FICLONE, fh.fileno())
            except OSError:
                _REFLINK_DEVICES.add(device)
            else:
                return sha256_of(dst)
        while block := fh.read(1 << 20):
            digest.update(block)
            out.write(block)
    return digest.hexdigest()


def _copies(
    paths: list[Path], targets: list[Path | None], *, ahead_files: int = 0, ahead_bytes: int = 0
) -> Iterator[str]:
    """The sha256 of each path, in order, copying it to its target (None: only hashed) as it is hashed.

    Small files are many: a few copies run side by side (hashing and file IO release the GIL), so the
    per-file latency overlaps instead of adding up. Copies run ahead of the file taken by at most
    `ahead_files` files and `ahead_bytes` bytes (default: one check batch, so the next batch is copied while
    this one is checked), never a future per file of the whole delivery.
    """
    ahead_files = ahead_files or INGEST_BATCH_FILES
    ahead_bytes = ahead_bytes or INGEST_BATCH_BYTES

    def one(pair: tuple[Path, Path | None]) -> str:
        src, dst = pair
        return sha256_of(src) if dst is None else copy_hashed(src, dst)

    with ThreadPoolExecutor(max_workers=min(4, max(2, os.cpu_count() or 1))) as pool:
        pending: deque[tuple[Future[str], int]] = deque()
        queued = 0
        for pair in zip(paths, targets, strict=True):
            size = pair[0].stat().st_size
            while pending and (len(pending) >= ahead_files or queued + size > ahead_bytes):
                done, done_size = pending.popleft()
                queued -= done_size
                yield done.result()
            pending.append((pool.submit(one, pair), size))
            queued += size
        while pending:
            yield pending.popleft()[0].result()


def sweep_scratch(settings: Settings) -> None:
    """Remove scratch folders in `<data_dir>/_tmp/` left by processes that are gone (a kill, a reboot)."""
    if not settings.scratch.is_dir():
        return
    for folder in settings.scratch.iterdir():
        parts = folder.name.split("-")
        if len(parts) < 3 or not parts[1].isdigit():
            continue
        pid = int(parts[1])
        if pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:
            pass


def parsing(settings: Settings) -> InflateLimits:
    """How parsers inflate compressed raw files for this data dir: under `_tmp/`, capped by config."""
    sweep_scratch(settings)
    return InflateLimits(settings.scratch, settings.max_inflated_bytes, settings.max_inflation_ratio)


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
    """All deliveries accepted into raw/, in manifest (sequence) order.

    A torn line (a write cut short by a crash) is skipped; `manifest_problems` names it.
    """
    return read_jsonl(settings.raw / "manifest.jsonl").frame(MANIFEST_SCHEMA).sort("seq")


def manifest_problems(settings: Settings) -> list[str]:
    """One line per torn line of the manifest or the quarantine log (file and line), for the user."""
    return [
        *read_jsonl(settings.raw / "manifest.jsonl").problems(),
        *read_jsonl(settings.quarantine / "quarantine.jsonl").problems(),
    ]


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


def _quarantine(
    settings: Settings, source: str, path: Path, name: str, sha: str | None, reason: str, at: datetime
) -> None:
    """Keep a copy of the file and its reason; with no `sha` (a refused entry) only the reason is logged."""
    if sha is not None:
        target = settings.quarantine / source / f"{sha}{_suffix(name)}"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            shutil.copyfile(path, target)
    append_jsonl(
        settings.quarantine / "quarantine.jsonl",
        [{"source": source, "name": name, "sha256": sha, "reason": reason, "quarantined_at": at.isoformat()}],
    )


def _unacceptable(settings: Settings, path: Path, name: str) -> str:
    """Why a file is quarantined before parsing (its name, its size), or ''."""
    if any(".." in part for part in Path(name).parts):
        return "file name contains '..'"
    size = path.stat().st_size
    if size > settings.max_file_bytes:
        return f"file is {size:,} bytes, over ingest.max_file_bytes ({settings.max_file_bytes:,} bytes)"
    return ""


# sha256 → (its stats row, its rejected lines, why unreadable, rows outside the partitions): plain rows, not
# frames, since a delivery of many small files keeps one entry per file until the manifest is written
_Checked = dict[str, tuple[dict[str, Any] | None, list[dict[str, Any]], str, int]]


def _check(settings: Settings, source: str, candidates: list[RawFile], at: datetime) -> _Checked:
    """Validate files with their parser: one batch, then file by file if the batch has a broken one.

    Returns sha256 → (per-file stats, rejected lines, reason, rows outside the partitions); stats is
    None for an unreadable file. A row outside the partitions is dated before
    `pipeline.first_partition_date` or more than a day after its landing: it stays in raw, in no partition.
    """
    try:
        result = check(source, candidates)
    except UnreadableFile as exc:
        if len(candidates) == 1:
            return {candidates[0].sha256: (None, [], str(exc), 0)}
        out: _Checked = {}
        for f in candidates:
            out.update(_check(settings, source, [f], at))
        return out
    outside = dict(
        result.rows.filter(
            (pl.col("billing_date") < settings.first_partition_date)
            | (pl.col("billing_date") > (at + FUTURE_SLACK).date())
        )
        .group_by("raw_sha256")
        .len()
        .iter_rows()
    )
    stats = {row["raw_sha256"]: row for row in result.stats.iter_rows(named=True)}  # one row per file
    rejects: dict[str, list[dict[str, Any]]] = {}
    for row in result.rejects.iter_rows(named=True):  # the rejected lines, as the rejects log keeps them
        rejects.setdefault(row["raw_sha256"], []).append(row)
    return {
        f.sha256: (stats.get(f.sha256), rejects.get(f.sha256, []), "", int(outside.get(f.sha256, 0)))
        for f in candidates
    }


def ingest(
    settings: Settings,
    source: str,
    paths: Sequence[Path],
    *,
    landed_at: datetime | None = None,
    inbox: Path | None = None,
    request: Mapping[str, object] | None = None,
) -> list[Outcome]:
    """Land files of one source into raw/ (or quarantine/) and return one outcome per file.

    `landed_at` defaults to now; the demo passes a fixed instant so its lake is reproducible. `inbox`
    is set when sweeping landing/: a symlink there that points outside it is refused, never read.
    `request` is a pulled page's API request parameters (never a credential), recorded in its manifest row.
    """
    if not is_source(source):
        raise ValueError(f"unknown source {source!r}; `tokencomp sources` lists them")
    with _locked(settings):
        return _ingest_locked(settings, source, paths, landed_at=landed_at, inbox=inbox, request=request)


def _ingest_locked(
    settings: Settings,
    source: str,
    paths: Sequence[Path],
    *,
    landed_at: datetime | None,
    inbox: Path | None,
    request: Mapping[str, object] | None,
) -> list[Outcome]:
    """`ingest` under raw/'s lock, which the caller holds: the paths are listed under it too, so two
    sweeps of one inbox never both take the same file.

    Each batch is finished (its files moved into raw/, their manifest and reject rows appended) as soon
    as it is checked, so what is held stays one batch's, however many files the call lands; a crash
    leaves the finished batches landed and the rest in landing/."""
    at = (landed_at or datetime.now(UTC)).astimezone(UTC)
    refused: list[Refused] = []
    found = discover(source, paths, inbox=inbox, refused=refused)
    outcomes: list[Outcome] = []
    with inflate_limits(parsing(settings)), parsed_lines(settings.parsed_lines), scratch_dir() as incoming:
        for r in refused:
            _quarantine(settings, source, r.path, r.name, None, r.reason, at)
            outcomes.append(Outcome(source, r.name, "quarantined", "", r.path, reason=r.reason))
        manifest = read_manifest(settings)
        known = {(r["sha256"], r["owner"]) for r in manifest.select("sha256", "owner").iter_rows(named=True)}
        seq = int(manifest["seq"].max() or 0) if manifest.height else 0
        del manifest  # the history's rows are not held while the files are landed
        quarantined = _quarantined(settings)
        origin: dict[int, Path] = {}  # seq → the user's path, for the admitted files not yet finished
        problems = [_unacceptable(settings, path, name) for path, name, _ in found]
        # an acceptable file is copied once, hashed as it goes; what is parsed and kept is that copy
        staging = [None if problem else incoming / f"{n}{_suffix(name)}" for n, ((_, name, _), problem) in
                   enumerate(zip(found, problems, strict=True))]  # fmt: skip

        def admitted() -> Iterator[RawFile]:  # the new deliveries, each once its copy is complete
            nonlocal seq
            for (path, name, owner), problem, staged, sha in zip(
                found, problems, staging, _copies([f[0] for f in found], staging), strict=True
            ):
                if problem and sha not in quarantined:
                    _quarantine(settings, source, path, name, sha, problem, at)
                    quarantined[sha] = problem
                    outcomes.append(Outcome(source, name, "quarantined", sha, path, reason=problem))
                elif (sha, owner) in known:
                    outcomes.append(Outcome(source, name, "duplicate", sha, path))
                elif sha in quarantined:
                    why = f"already quarantined: {quarantined[sha]}"
                    outcomes.append(Outcome(source, name, "quarantined", sha, path, reason=why))
                else:
                    seq += 1
                    known.add((sha, owner))  # a second copy in this delivery is a duplicate too
                    origin[seq] = path
                    yield RawFile(staged or path, sha, source, seq, at, name, {"owner": owner} if owner else {})

        # a batch is checked as soon as its files are copied, while later ones still are
        for batch in _ingest_batches(admitted()):
            checked = _check(settings, source, batch, at)
            _finish(settings, source, [(f, origin.pop(f.seq)) for f in batch], checked, at, request, outcomes)
    return outcomes


def _finish(
    settings: Settings,
    source: str,
    batch: list[tuple[RawFile, Path]],
    checked: _Checked,
    at: datetime,
    request: Mapping[str, object] | None,
    outcomes: list[Outcome],
) -> None:
    """Land one checked batch: quarantine what its parser could not read or rejected too much of, move
    the rest into raw/, then append their reject and manifest rows (the manifest last: a row there
    means the file is in raw/)."""
    manifest_rows: list[dict[str, object]] = []
    reject_rows: list[dict[str, object]] = []
    for f, path in batch:
        stats, rejects, reason, outside = checked[f.sha256]
        if not stats:
            _quarantine(settings, source, f.path, f.name, f.sha256, reason or "no readable content", at)
            outcomes.append(Outcome(source, f.name, "quarantined", f.sha256, path, reason=reason))
            continue
        s = stats
        parsed, loaded, rejected = int(s["parsed"]), int(s["loaded"]), int(s["rejected"])
        if parsed and rejected / parsed > settings.max_rejected_share:
            why = f"{rejected} of {parsed} lines rejected (over {settings.max_rejected_share:.0%}); first: " + (
                _describe(rejects[0]) if rejects else "?"
            )
            _quarantine(settings, source, f.path, f.name, f.sha256, why, at)
            outcomes.append(Outcome(source, f.name, "quarantined", f.sha256, path, parsed, 0, rejected, why))
            continue
        rel = Path(source) / f.sha256[:2] / f"{f.sha256}{_suffix(f.name)}"
        target = settings.raw / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            _place(f.path, target)
        manifest_rows.append(
            {
                "seq": f.seq,
                "sha256": f.sha256,
                "source": source,
                "name": f.name,
                "owner": f.provenance.get("owner"),
                "raw_path": str(rel),
                "bytes": target.stat().st_size,
                "landed_at": at.isoformat(),
                "min_date": _iso(s["min_date"]),
                "max_date": _iso(s["max_date"]),
                "parsed": parsed,
                "loaded": loaded,
                "rejected": rejected,
                "outside_partitions": outside,
                "request": json.dumps(dict(request), sort_keys=True) if request else None,
            }
        )
        reject_rows.extend({"source": source, **r} for r in rejects)
        outcomes.append(Outcome(source, f.name, "landed", f.sha256, path, parsed, loaded, rejected, "", outside))
    append_jsonl(settings.raw / "rejects.jsonl", reject_rows)
    append_jsonl(settings.raw / "manifest.jsonl", manifest_rows)


# Text validated in one parser call, at most (a compressed file weighs ten times its size; a smaller DuckDB
# memory limit makes it less): one JSONL staging batch, checked while the next batch is being copied.
INGEST_BATCH_BYTES = 256 * 2**20
# Files in one parser call, at most: what is kept per file (its outcome, manifest and reject rows, its
# staging mark) is then bounded too when a delivery is many small files.
INGEST_BATCH_FILES = 2048


def _ingest_batches(files: Iterable[RawFile], limit: int | None = None) -> Iterator[list[RawFile]]:
    """`files` in batches of at most `limit` bytes of text and `INGEST_BATCH_FILES` files, each handed on as
    soon as the file after it comes."""
    limit = limit or min(INGEST_BATCH_BYTES, engine_limits().memory_limit // 2)
    batch: list[RawFile] = []
    size = 0
    for f in files:
        weight = f.path.stat().st_size * (10 if f.path.suffix.lower() in _SUFFIXES else 1)
        if batch and (size + weight > limit or len(batch) == INGEST_BATCH_FILES):
            yield batch
            batch, size = [], 0
        batch.append(f)
        size += weight
    if batch:
        yield batch


def _place(staged: Path, target: Path) -> None:
    """Move a checked copy into raw/ atomically (a copy first when scratch is on another filesystem)."""
    try:
        os.replace(staged, target)
    except OSError:
        tmp = target.with_name(f".{target.name}.tmp")
        shutil.copyfile(staged, tmp)
        os.replace(tmp, target)


def _quarantined(settings: Settings) -> dict[str, str]:
    """sha256 → reason of every file quarantined so far, so a re-sweep does not quarantine it twice."""
    frame = read_jsonl(settings.quarantine / "quarantine.jsonl").frame(QUARANTINE_SCHEMA)
    frame = frame.filter(pl.col("sha256").is_not_null() & (pl.col("sha256") != ""))
    return dict(zip(frame["sha256"].to_list(), frame["reason"].to_list(), strict=True))


def read_quarantine(settings: Settings) -> pl.DataFrame:
    """Every quarantine entry so far (file, reason), in log order; torn lines skipped."""
    return read_jsonl(settings.quarantine / "quarantine.jsonl").frame(QUARANTINE_SCHEMA)


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
    # raw/'s lock is held until the swept files are gone from landing/, so a second sweep never lists one
    with _locked(settings):
        outcomes = _ingest_locked(settings, source, [folder], landed_at=landed_at, inbox=settings.landing, request=None)
        for o in outcomes:
            o.path.unlink(missing_ok=True)  # a refused symlink goes, its target stays where it is
    for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(sub.iterdir()):
            sub.rmdir()
    return outcomes


@dataclass(frozen=True)
class JournalMark:
    """How far the quarantine log and the manifest reached, to report what a run added after it."""

    quarantined: int
    seq: int


def journal_mark(settings: Settings) -> JournalMark:
    """The current end of the quarantine log and of the manifest."""
    manifest = read_manifest(settings)
    return JournalMark(read_quarantine(settings).height, int(manifest["seq"].max() or 0) if manifest.height else 0)


def news_since(settings: Settings, mark: JournalMark) -> list[str]:
    """What a run did that needs a look, one line each: files quarantined, rows outside the partitions."""
    lines = [
        f"quarantined  {r['source']}  {r['name']}: {r['reason']}"
        for r in read_quarantine(settings).slice(mark.quarantined).iter_rows(named=True)
    ]
    outside = read_manifest(settings).filter((pl.col("seq") > mark.seq) & (pl.col("outside_partitions") > 0))
    lines += [
        f"warning: {r['outside_partitions']} row(s) of {r['source']}  {r['name']} are dated before "
        f"{settings.first_partition_date} or in the future: kept in raw, in no partition"
        for r in outside.iter_rows(named=True)
    ]
    return lines + manifest_problems(settings)
