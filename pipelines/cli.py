"""`tokencomp`: the command line for the nightly pipeline, the demo company and status.

Exit codes (DESIGN): 0 done; 1 bad usage or input; 2 provider or IO failure after retries;
3 a blocking check stopped downstream assets. Every failure ends with one line on stderr.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from rich.console import Console

from pipelines.config import ConfigError, Settings, load_settings
from pipelines.locks import data_dir_lock, private_files
from pipelines.progress import ProgressDisplay
from pipelines.services.reference import LATER_KINDS, USER_KINDS, ReferenceError, load_reference
from pipelines.services.salaries import load_salaries
from pipelines.summary import SUMMARY_WIDTH, read_only_command, summary
from pipelines.summary import share as _share  # noqa: F401 - tests read it here
from pipelines.summary import usd as _usd  # noqa: F401 - tests read it here
from pipelines.terminal import plain, shown
from transforms.salaries import SalaryFileError

if TYPE_CHECKING:  # Dagster loads only when a command runs through it
    import dagster as dg

    from pipelines.runner import RunOutcome

EXIT_OK, EXIT_INPUT, EXIT_IO, EXIT_CHECK = 0, 1, 2, 3
out = Console(highlight=False, soft_wrap=True, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
# Commands that write the data dir hold its lock (pipelines.locks): a second one waits, saying for whom.
WRITERS = ("demo", "ingest", "pull", "run", "reference", "close", "reprice", "export")


class CliError(Exception):
    """A failure reported as one line on stderr with an exit code."""

    def __init__(self, message: str, code: int = EXIT_INPUT) -> None:
        super().__init__(message)
        self.code = code


class _Parser(argparse.ArgumentParser):
    """argparse with DESIGN's exit code for bad usage (1, not argparse's 2) and a one-line error."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_INPUT, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def _yesterday() -> date:
    return datetime.now(UTC).date() - timedelta(days=1)


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(Path(args.config) if args.config else None, data_dir=args.data_dir)


# --- commands -------------------------------------------------------------------------------------------


def cmd_sources(args: argparse.Namespace) -> int:
    """List the source ids this build can ingest, one a line."""
    from transforms.sources import source_ids

    for source in source_ids():
        print(source)
    return EXIT_OK


def cmd_ingest(args: argparse.Namespace) -> int:
    """Land files of one source into raw/ (or quarantine/), one line per file."""
    from pipelines.services.ingest import ingest, manifest_problems
    from transforms.sources import is_source

    if not is_source(args.source):
        raise CliError(f"unknown source {args.source!r}; run `tokencomp sources` for the list")
    settings = _settings(args)
    try:
        outcomes = ingest(settings, args.source, [Path(p) for p in args.paths])
    except (FileNotFoundError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    for o in outcomes:
        out.print(plain(o.line()), markup=False)
    for problem in manifest_problems(settings):
        err.print(plain(f"warning: {problem}"), markup=False)
    bad = [o for o in outcomes if o.status == "quarantined"]
    if bad:
        raise CliError(f"{len(bad)} of {len(outcomes)} file(s) quarantined; see {settings.quarantine}")
    return EXIT_OK


def cmd_pull(args: argparse.Namespace) -> int:
    """Pull one source's pages for a window of UTC days from its provider API into raw/, one line per page."""
    from pipelines.clients import PullError, pages
    from pipelines.services.pull import land_pages

    if args.date_from > args.date_to:
        raise CliError(f"--from {args.date_from} is after --to {args.date_to}")
    settings = _settings(args)
    try:
        outcomes = land_pages(
            settings,
            args.source,
            pages(settings, args.source, args.date_from, args.date_to),
            args.date_from,
            args.date_to,
        )
    except PullError as exc:
        raise CliError(str(exc), EXIT_IO) from None
    for o in outcomes:
        out.print(plain(o.line()), markup=False)
    bad = [o for o in outcomes if o.status == "quarantined"]
    if bad:
        raise CliError(f"{len(bad)} of {len(outcomes)} page(s) quarantined; see {settings.quarantine}", EXIT_IO)
    return EXIT_OK


def cmd_reference_load(args: argparse.Namespace) -> int:
    """Validate and store a reference file of one kind (the kinds are listed in pipelines/services/reference.py)."""
    settings = _settings(args)
    try:
        if args.kind == "salaries":  # messy submissions: bad rows are skipped and counted, not fatal
            report = load_salaries(settings, [Path(p) for p in args.paths])
            for line in report.lines():
                out.print(plain(line), markup=False)
            rows = report.loaded
        else:
            rows = load_reference(settings, args.kind, [Path(p) for p in args.paths])
    except (ReferenceError, SalaryFileError) as exc:
        raise CliError(str(exc)) from exc
    out.print(f"loaded {shown(args.kind)}: {rows} rows into {shown(settings.reference)}")
    return EXIT_OK


def cmd_reference_pull(args: argparse.Namespace) -> int:
    """Pull the providers' own API key and user lists into reference/, so keys and users resolve by themselves."""
    from pipelines.services.identity import pull_identities

    report = pull_identities(_settings(args), args.provider)
    for line in report.skipped + [p for o in report.outcomes for p in o.problems]:
        err.print(plain(f"warning: {line}"), markup=False)
    for o in report.outcomes:
        out.print(plain(o.line()), markup=False)
    if report.failures:
        raise CliError(report.failure_line(), EXIT_IO)
    return EXIT_OK


def _window(args: argparse.Namespace) -> tuple[date, date]:
    if args.date and (args.date_from or args.date_to):
        raise CliError("use either --date or --from/--to, not both")
    if args.date:
        return args.date, args.date
    if args.date_from or args.date_to:
        if not (args.date_from and args.date_to):
            raise CliError("--from and --to go together")
        if args.date_from > args.date_to:
            raise CliError(f"--from {args.date_from} is after --to {args.date_to}")
        return args.date_from, args.date_to
    day = _yesterday()
    return day, day


def through_dagster(
    heading: str,
    start: Callable[[dg.DagsterInstance, ProgressDisplay, Callable[[str], None]], RunOutcome],
    *,
    notes: Callable[[RunOutcome], list[str]] = lambda outcome: [],
) -> RunOutcome:
    """Run a command's Dagster run(s) in the project's instance the way every command does: free dead runs'
    slots, say what runs, show progress, then print the outcome's notes and failed WARN checks (kept in
    `tokencomp status`, never a failure). A failed run is one line and its exit code (2, or 3 for a blocking check).
    """
    from pipelines.instance import free_dead_runs
    from pipelines.runner import dagster_instance

    instance = dagster_instance()
    for freed in free_dead_runs(instance):
        err.print(plain(freed.line()), markup=False)
    err.print(heading)
    with ProgressDisplay(err) as display:
        outcome = start(instance, display, lambda line: err.print(plain(line), markup=False))
    for line in [*notes(outcome), *(f"warning: {w}" for w in outcome.warnings)]:
        err.print(plain(line), markup=False)
    if not outcome.success:
        raise CliError(
            f"run {outcome.run_id[:8]} failed: {outcome.error or ', '.join(outcome.failed_steps)}", outcome.exit_code
        )
    return outcome


def _run(
    settings: Settings,
    args: argparse.Namespace,
    start: date,
    end: date,
    landed_at: datetime | None,
    *,
    pull: tuple[date, date] | None = None,
) -> int:
    """Run the nightly job for start..end; with `pull` (the asked days), the pull job first (exit 2 if one fails)."""
    from pipelines.runner import run_nightly
    from pipelines.services.ingest import journal_mark, news_since
    from pipelines.services.lake import ZoneChanged, check_zone, record_zone

    if start < settings.first_partition_date:
        raise CliError(f"{start} is before the first partition date {settings.first_partition_date}")
    rebuild = getattr(args, "rebuild", False)
    try:
        check_zone(settings, rebuild=rebuild)
    except ZoneChanged as exc:
        raise CliError(str(exc)) from exc
    if settings.price_overrides:
        from transforms.pricing import load_overrides

        try:
            load_overrides(settings.price_overrides)  # a bad overrides file is bad input (exit 1), not an IO failure
        except (OSError, ValueError) as exc:
            raise CliError(str(exc)) from exc
    if rebuild:
        record_zone(settings, rebuilding=True)  # until it succeeds, a plain run is refused
    mark = journal_mark(settings)
    pulling = f"pulling {pull[0]} … {pull[1]} (every source with a key), then " if pull else ""
    outcome = through_dagster(
        f"{pulling}running the nightly job for {start} … {end} through Dagster",
        lambda instance, display, say: run_nightly(
            start,
            end,
            config_path=Path(args.config) if args.config else None,
            data_dir=settings.data_dir,
            landed_at=landed_at,
            progress=display,
            instance=instance,
            say=say,
            pull=pull is not None,
            pull_window=pull,
        ),
        # the rest of the run went on; these need a look
        notes=lambda outcome: (outcome.pull.lines() if outcome.pull else []) + news_since(settings, mark),
    )
    if rebuild:
        record_zone(settings)
    start, end = outcome.window or (start, end)
    if outcome.exit_code:  # published, but a pull failed
        raise CliError(outcome.pull_failure(), outcome.exit_code)
    err.print(f"run {outcome.run_id[:8]} succeeded ({start} … {end})")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    """Materialize the nightly job for a day or a range, in process, through Dagster."""
    settings = _settings(args)
    start, end = _window(args)
    if args.rebuild:
        start, end = _rebuild_window(settings, start, end)
    return _run(settings, args, start, end, None, pull=_window(args))  # a rebuild pulls the days asked only


def _rebuild_window(settings: Settings, start: date, end: date) -> tuple[date, date]:
    """The asked window widened to every partition day raw/ holds data for (a whole-lake rebuild)."""
    from pipelines.services.ingest import read_manifest

    manifest = read_manifest(settings)
    if manifest.height:
        first, last = manifest["min_date"].min(), manifest["max_date"].max()
        start = min(start, max(first, settings.first_partition_date))  # type: ignore[type-var]
        end = max(end, min(last, _yesterday()))  # type: ignore[type-var]
    return start, end


def cmd_demo(args: argparse.Namespace) -> int:
    """Generate the synthetic company into landing/, run the whole pipeline, print the summary."""
    from pipelines.demo import STAGE_UNITS, generate

    settings = _settings(args)
    end = args.end or _yesterday()
    start = end - timedelta(days=args.days - 1)
    if args.engineers < 1 or args.days < 1:
        raise CliError("--engineers and --days must be at least 1")
    _reset_demo_data(settings)
    err.print(f"writing a synthetic company of {args.engineers} engineers, {start} … {end}, into {settings.landing}")
    with ProgressDisplay(err) as display:
        truth = generate(
            settings.landing,
            engineers=args.engineers,
            days=args.days,
            end=end,
            seed=args.seed,
            progress=lambda stage, done, total: display.stage(
                f"generate {stage}", done, total, STAGE_UNITS.get(stage, "")
            ),
        )
    err.print(f"demo company written to {shown(settings.landing)} (ground truth: {shown(truth.path)})")
    # Landing time is fixed by (seed, end) so the demo's lake is byte-identical run after run.
    landed_at = datetime.combine(end + timedelta(days=1), time(6, 0), tzinfo=UTC)
    from pipelines.services.warehouse import throwaway_pseudonym_key

    with throwaway_pseudonym_key(settings, err.print):
        code = _run(settings, args, start, end, landed_at)
    from pipelines.export_command import demo_exports

    exports = demo_exports(settings, start, end)  # the month-end files, named after the summary
    _print_summary(settings)
    for line in exports:
        out.print(line, markup=False)
    return code


# What the demo generator's progress stages count.


def _reset_demo_data(settings: Settings) -> None:
    """Start the demo from an empty data dir, but never wipe one that holds real (non-demo) data."""
    data = settings.data_dir
    marker = data / "demo" / "truth.json"
    used = [p for p in ("landing", "raw", "lake", "reference", "quarantine") if (data / p).exists()]
    if used and not marker.exists():
        raise CliError(f"{data} already holds non-demo data ({', '.join(used)}); run the demo with --data-dir DIR")
    for part in ("landing", "raw", "lake", "reference", "quarantine", "demo", "_build", "exports"):
        shutil.rmtree(data / part, ignore_errors=True)
    settings.warehouse_path.unlink(missing_ok=True)
    settings.analyst_path.unlink(missing_ok=True)


def _print_summary(settings: Settings) -> None:
    for part in summary(settings):
        out.print(part, width=min(out.width, SUMMARY_WIDTH), soft_wrap=False)
    out.print(read_only_command(settings.warehouse_path), markup=False, soft_wrap=True)  # kept whole, to copy


def cmd_close(args: argparse.Namespace) -> int:
    """Freeze a month's books as the warehouse shows them now (the Dagster job `close`)."""
    from pipelines.month_command import close_command

    return close_command(args)


def cmd_reprice(args: argparse.Namespace) -> int:
    """Recompute a closed month on purpose and print what changed per provider and engineer (Dagster runs)."""
    from pipelines.month_command import reprice_command

    return reprice_command(args)


def cmd_status(args: argparse.Namespace) -> int:
    """Freshness per source, last runs, unattributed share, unpriced models, quarantined files."""
    from pipelines.status_command import print_status

    print_status(_settings(args), out)
    return EXIT_OK


# --- parser ------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argparse tree; `tokencomp COMMAND --help` documents each command."""
    parser = _Parser(
        prog="tokencomp",
        description="Per-engineer AI token spend next to salary bands: ingest provider exports, build the "
        "lake and the DuckDB warehouse, report.",
        epilog="Exit codes: 0 done, 1 bad usage or input, 2 provider or IO failure, 3 a blocking check failed, "
        "130 interrupted.",
    )
    parser.add_argument("--config", help="config file (default: $TOKENCOMP_CONFIG or ./tokencomp.toml)")
    parser.add_argument("--data-dir", help="data folder (default: paths.data_dir from config, ./data)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser(
        "demo",
        help="generate a synthetic company and run the whole pipeline on it, offline",
        description="Write a synthetic company (roster, salaries, provider exports in their real "
        "formats) into landing/, run the nightly job over its window through Dagster, print a summary."
        " Deterministic for (seed, end date).",
    )
    p.add_argument("--engineers", type=int, default=200, help="number of engineers (default 200)")
    p.add_argument("--days", type=int, default=90, help="days of usage (default 90)")
    p.add_argument("--end", type=_date, help="last day of usage, YYYY-MM-DD (default: yesterday, UTC)")
    p.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("sources", help="list the source ids, one a line")
    p.set_defaults(func=cmd_sources)

    from transforms.sources import specs

    p = sub.add_parser(
        "ingest",
        help="land files of one source into raw/ (or quarantine/)",
        description="Validate and land files of SOURCE. Prints one line per file. For "
        f"{', '.join(s.id for s in specs() if s.owner == 'email_folder')}, PATH is a folder of engineer folders "
        "named by email, or one such folder.",
    )
    p.add_argument("source", metavar="SOURCE", help="source id (see `tokencomp sources`)")
    p.add_argument("paths", metavar="PATH", nargs="+", help="files or folders")
    p.set_defaults(func=cmd_ingest)

    from pipelines.clients import key_env, pullable
    from pipelines.services.identity import CLI_DESCRIPTION, KEY_ENVS

    p = sub.add_parser(
        "pull",
        help="pull one source from its provider API into raw/",
        description="Fetch every page of SOURCE for the UTC days --from..--to (inclusive) and land each page in "
        "raw/ byte for byte, as a dropped file would; the manifest records each page's request (group_by, bucket "
        "width, cursor). The key comes only from the environment ("
        + ", ".join(f"{s}: {key_env(s)}" for s in pullable())
        + "); without it the pull stops with one line naming the variable and exit 2, as does a refused key "
        "(401/403) or a failure after retries. Nothing is written unless every page arrived. Base URLs and "
        "retry limits: [clients] in config.",
    )
    p.add_argument("source", metavar="SOURCE", choices=pullable(), help=f"one of: {', '.join(pullable())}")
    p.add_argument(
        "--from", dest="date_from", metavar="DATE", type=_date, required=True, help="first UTC day, YYYY-MM-DD"
    )
    p.add_argument(
        "--to", dest="date_to", metavar="DATE", type=_date, required=True, help="last UTC day (inclusive), YYYY-MM-DD"
    )
    p.set_defaults(func=cmd_pull)

    p = sub.add_parser(
        "run",
        help="run the nightly job for a day or a range, in process, through Dagster",
        description="Ingest landing/, rebuild the lake for the billing days given, build and publish "
        "the warehouse. Default: yesterday (UTC).",
    )
    p.add_argument("--date", type=_date, help="one billing day, YYYY-MM-DD")
    p.add_argument("--from", dest="date_from", type=_date, help="first billing day of a range")
    p.add_argument("--to", dest="date_to", type=_date, help="last billing day of a range (inclusive)")
    p.add_argument(
        "--rebuild",
        action="store_true",
        help="rebuild the whole lake (every day raw/ holds) in the configured pipeline.timezone; needed "
        "after changing the zone, which is otherwise refused",
    )
    p.set_defaults(func=cmd_run)

    kinds = ", ".join(
        USER_KINDS
    )  # the registry in pipelines/services/reference.py: a new kind is listed here by itself
    later = f" ({', '.join(LATER_KINDS)} not yet)" if LATER_KINDS else ""
    p = sub.add_parser(
        "reference",
        help=f"load reference data: {kinds}",
        description=f"Reference data: who is who and what things cost. Kinds: {kinds}{later}; `pull`: identity lists.",
    )
    rsub = p.add_subparsers(dest="reference_command", required=True, metavar="ACTION", parser_class=_Parser)
    load = rsub.add_parser(
        "load",
        help=f"validate and store a reference file of KIND ({kinds})",
        description="Validate CSV file(s) of KIND and replace the stored reference. "
        f"KIND is one of: {kinds}{later}. A roster CSV with a "
        "snapshot_date column is an HR snapshot; snapshots accumulate and become effective-dated periods.",
    )
    load.add_argument("kind", metavar="KIND", help=kinds)
    load.add_argument("paths", metavar="PATH", nargs="+", help="CSV file(s) or folder(s)")
    load.set_defaults(func=cmd_reference_load)
    pull = rsub.add_parser("pull", help="pull the providers' key and user lists", description=CLI_DESCRIPTION)
    pull.add_argument("--provider", action="append", choices=list(KEY_ENVS), help="only this provider (repeatable)")
    pull.set_defaults(func=cmd_reference_pull)

    p = sub.add_parser(
        "close",
        help="freeze a month's books; later data for it becomes corrections",
        description="Freeze MONTH as the published warehouse shows it (the Dagster job `close`, recorded in the "
        "instance's run history). Its marts no longer move; late data for it is posted into the open month as "
        "charge_class = 'correction'.",
    )
    p.add_argument("--month", required=True, metavar="YYYY-MM", help="the month to close")
    p.set_defaults(func=cmd_close)

    p = sub.add_parser(
        "reprice",
        help="recompute a closed month on purpose and print the diff",
        description="Rebuild a closed month's lake days with today's prices, recompute its books with today's "
        "aliases and replace them (the Dagster job `reprice`), republish the warehouse, and print the change per "
        "provider and engineer. Each step is a Dagster run tagged with the month.",
    )
    p.add_argument("--month", required=True, metavar="YYYY-MM", help="the closed month to recompute")
    p.set_defaults(func=cmd_reprice)

    from pipelines.export_command import add_export_parser

    add_export_parser(sub)
    p = sub.add_parser(
        "status", help="freshness per source, last runs, failed and warned checks, unattributed share, unpriced models"
    )
    p.set_defaults(func=cmd_status)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `tokencomp` console script."""
    private_files()  # the data dir holds names, emails and pay: everything we create is owner-only
    parser = build_parser()
    args = parser.parse_args(argv)
    for console in (out, err):
        if not console.is_terminal:  # logs and pipes: keep tables whole rather than 80 columns wide
            console.width = max(console.width, 160)
    try:
        if args.command not in WRITERS:
            return int(args.func(args))
        with data_dir_lock(
            _settings(args).data_dir, f"tokencomp {args.command}", on_wait=lambda m: err.print(plain(m), markup=False)
        ):
            return int(args.func(args))
    except CliError as exc:
        err.print(f"tokencomp: {plain(exc)}", markup=False)
        return exc.code
    except ConfigError as exc:
        err.print(f"tokencomp: {plain(exc)}", markup=False)
        return EXIT_INPUT
    except OSError as exc:
        err.print(f"tokencomp: {plain(exc)}", markup=False)
        return EXIT_IO
    except KeyboardInterrupt:
        err.print("tokencomp: interrupted; nothing was half-published (a warehouse is only ever replaced whole)")
        return 130
    except Exception as exc:  # a bug: still one line, the traceback only on request
        if os.environ.get("TOKENCOMP_DEBUG"):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        err.print(
            f"tokencomp: internal error: {type(exc).__name__}: {plain(first)} (TOKENCOMP_DEBUG=1 shows the traceback)",
            markup=False,
        )
        return EXIT_IO


if __name__ == "__main__":
    sys.exit(main())
