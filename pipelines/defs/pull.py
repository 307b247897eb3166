"""Pull layer: each provider API source's pages for the run's days (plus a trailing re-pull window) → raw/.

One asset per source `pullable()` lists, generated from the registry, never a list of its own. They form
their own job (`pull`), which the nightly run starts first; the build (`nightly`) then runs whatever the
pulls did, so one provider failing never keeps the others' data, or the warehouse, from publishing.
Dagster abandons every step downstream of a failed one inside a run, so a failed pull would otherwise
stop the lake and the warehouse: the two runs are the seam (see pipelines/runner.py and automation.py).
"""

import os
from collections.abc import Callable, Iterator, Mapping
from datetime import date, timedelta

import dagster as dg

from pipelines.clients import AuthRefused, PullError, key_env, pages, provider_api, pullable
from pipelines.config import Settings
from pipelines.defs.partitions import window
from pipelines.defs.resources import TokencompResource
from pipelines.progress import report_progress
from pipelines.services.identity import pull_identity
from pipelines.services.pull import land_pages

PREFIX = "pull"  # asset keys pull/<source>, pull/<provider>_<step>
GROUP = "raw"  # a pull lands pages in raw/, like a dropped file
MAX_RETRIES = 2

ProviderStep = Callable[[Settings, str], object]
"""A step run once per provider API with credentials in each pull run, called as `step(settings, provider)`:
the place for lists that are not a source's pages (identity: the providers' own key and user lists)."""


def pull_identity_lists(settings: Settings, provider: str) -> str:
    """Tonight's snapshot of one provider's own user and API key lists, kept as reference data: the build that
    follows turns each key id (and Anthropic key name, user id) into an alias of its owner's engineer."""
    outcomes = pull_identity(settings, provider)
    for problem in (p for o in outcomes for p in o.problems):
        dg.get_dagster_logger().warning(problem)
    lists = "; ".join(
        f"{o.list} {o.pages} page(s) {o.status}, loaded {o.loaded}"
        + (f", filtered {o.filtered}" if o.filtered else "")
        + (f", rejected {o.rejected}" if o.rejected else "")
        for o in outcomes
    )
    return f"{lists}; {outcomes[-1].identities} identities in all"


PROVIDER_STEPS: Mapping[str, ProviderStep] = {"identity": pull_identity_lists}
"""name → step; each becomes the asset pull/<provider>_<name> for every provider API that has a pullable source."""


def pool(provider: str) -> str:
    """The Dagster concurrency pool of one provider API (slots: `pools.default_limit` in dagster.yaml)."""
    return f"pull_{provider}"


def retry_policy(settings: Settings) -> dg.RetryPolicy:
    """A failed pull (network, 5xx, bad paging, after the client's own retries) is tried twice more."""
    return dg.RetryPolicy(
        max_retries=MAX_RETRIES,
        delay=settings.pull_retry_delay_seconds,
        backoff=dg.Backoff.EXPONENTIAL,
        jitter=dg.Jitter.PLUS_MINUS,
    )


def pulled_window(settings: Settings, source: str, start: date, end: date) -> tuple[date, date]:
    """The days one pull of `source` fetches for a run of start..end: its re-pull window before them too."""
    first = start - timedelta(days=settings.repull_window(source))
    return max(first, settings.first_partition_date), end


def _skip(context: dg.AssetExecutionContext, name: str, env: str, *, enabled: bool = True) -> str | None:
    """Why this step does nothing tonight (source disabled, no key); None if it runs. A missing key is a warning,
    kept as an observation for `tokencomp status`; a source disabled in config is not (it was asked for)."""
    if not enabled:
        context.log.info(f"{name}: not in pipeline.enabled_sources; not pulled")
        return "disabled"
    if os.environ.get(env):
        return None
    reason = f"no credentials (set {env})"
    context.log.warning(f"{name}: not pulled: {reason}")
    report_progress(context.log, f"pull {name}", 0, 0, "pages", f"skipped: {reason}")
    context.log_event(dg.AssetObservation(asset_key=context.asset_key, metadata={"skipped": reason, "key_env": env}))
    return reason


def _fail(exc: PullError) -> dg.Failure:
    """A pull error as the asset's one-line failure; a refused key is never retried (it will not get better)."""
    return dg.Failure(description=str(exc), allow_retries=not isinstance(exc, AuthRefused))


def pull_asset(source: str, settings: Settings, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    """The asset that pulls one source's pages from its provider API into raw/ for a window of days."""
    provider = provider_api(source)

    @dg.asset(
        key=[PREFIX, source],
        group_name=GROUP,
        kinds={"python", "api"},
        owners=["team:data-platform"],
        tags={"source": source, "provider_api": provider},
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=pool(provider),
        retry_policy=retry_policy(settings),
        output_required=False,
        description=(
            f"{source} as the {provider} API reports it: every page for the run's days and the trailing re-pull "
            f"window, landed in raw/ byte for byte like a dropped file (latest delivery of a row wins). Skipped "
            f"with a warning when {key_env(source)} is not set."
        ),
    )
    def _pull(context: dg.AssetExecutionContext, tokencomp: TokencompResource) -> Iterator[dg.MaterializeResult]:
        settings = tokencomp.settings()
        if _skip(context, source, key_env(source), enabled=source in settings.enabled_sources):
            return
        first, last = pulled_window(settings, source, *window(context))
        context.log.info(f"{source}: pulling {first} … {last} (attempt {context.retry_number + 1})")
        try:
            outcomes = land_pages(settings, source, pages(settings, source, first, last), first, last)
        except PullError as exc:
            raise _fail(exc) from None
        counts = {s: sum(o.status == s for o in outcomes) for s in ("landed", "duplicate", "quarantined")}
        for o in outcomes:
            if o.status == "quarantined":
                context.log.warning(o.line())
        note = f"{first} … {last}: " + ", ".join(f"{n} {k}" for k, n in counts.items() if n)
        report_progress(context.log, f"pull {source}", len(outcomes), len(outcomes), "pages", note)
        yield dg.MaterializeResult(
            metadata={
                "pulled_from": first.isoformat(),
                "pulled_to": last.isoformat(),
                "pages": len(outcomes),
                **{f"pages_{k}": v for k, v in counts.items()},
                # the lake days this pull may have changed: the build rebuilds them too
                "changed_from": first.isoformat() if counts["landed"] else "",
            }
        )

    return _pull


def provider_step_asset(
    name: str, step: ProviderStep, provider: str, env: str, settings: Settings
) -> dg.AssetsDefinition:
    """The asset that runs one PROVIDER_STEPS entry for one provider API, in that API's pool."""

    @dg.asset(
        key=[PREFIX, f"{provider}_{name}"],
        group_name=GROUP,
        kinds={"python", "api"},
        owners=["team:data-platform"],
        tags={"provider_api": provider},
        pool=pool(provider),
        retry_policy=retry_policy(settings),
        output_required=False,
        description=f"The {provider} API's {name} lists, pulled each night with {env} (skipped when it is not set).",
    )
    def _step(context: dg.AssetExecutionContext, tokencomp: TokencompResource) -> Iterator[dg.MaterializeResult]:
        settings = tokencomp.settings()
        if _skip(context, provider, env):
            return
        try:
            note = step(settings, provider)
        except PullError as exc:
            raise _fail(exc) from None
        yield dg.MaterializeResult(metadata={"result": str(note)} if note is not None else {})

    return _step


def pull_assets(
    settings: Settings, partitions: dg.PartitionsDefinition, steps: Mapping[str, ProviderStep] | None = None
) -> list[dg.AssetsDefinition]:
    """Every pull asset: one per pullable source, then one per provider API and provider step."""
    sources = pullable()
    providers = {provider_api(s): key_env(s) for s in sources}
    steps = PROVIDER_STEPS if steps is None else steps
    return [
        *(pull_asset(s, settings, partitions) for s in sources),
        *(provider_step_asset(n, f, p, env, settings) for n, f in steps.items() for p, env in providers.items()),
    ]


def pull_keys() -> list[dg.AssetKey]:
    """The asset keys of the per-source pulls (the ingest assets list them as their upstream)."""
    return [dg.AssetKey([PREFIX, s]) for s in pullable()]
