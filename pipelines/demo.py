"""Synthetic company generator behind `tokencomp demo`.

`generate` writes a whole fictional engineering organisation into the pipeline's `landing/` inbox:
the HR roster, identity aliases, scope → cost-centre map, Levels.fyi-style salary submissions, and
the provider exports (Anthropic usage and cost reports, OpenAI usage and costs, Claude Code session
logs) in the providers' real formats, one API response page per file. Beside `landing/` it writes
`demo/truth.json`: what the pipeline must find (billed and list totals, who spent what, alerts), so
end-to-end tests can assert exact figures.

Everything is driven by one `random.Random(seed)` and integer/decimal arithmetic only (no libm
functions, no clocks, no set or hash ordering), so the same (seed, end, engineers, days) gives
byte-identical files. Money is `Decimal` throughout; list prices come from the pinned `genai-prices`
data, priced per UTC day of use, and billed amounts are list minus a known per-provider discount.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import statistics
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from pathlib import Path
from random import Random
from typing import Any

from genai_prices import Usage, calc_price

__all__ = ["DemoTruth", "ProgressFn", "generate"]

ProgressFn = Callable[[str, int, int], None]
"""Progress callback: (stage name, units done, units total)."""

# --------------------------------------------------------------------------------------------------
# The fictional company
# --------------------------------------------------------------------------------------------------

ANTHROPIC_DISCOUNT = Decimal("0.10")
OPENAI_DISCOUNT = Decimal("0.05")
_ANTHROPIC_KEEP = 1 - ANTHROPIC_DISCOUNT
_OPENAI_KEEP = 1 - OPENAI_DISCOUNT
_MILLION = Decimal(1_000_000)
_TEN_DP = Decimal("1e-10")

# (team name, cost centre, has its own Anthropic workspace)
_TEAMS: tuple[tuple[str, str, bool], ...] = (
    ("Platform", "CC-101", True),
    ("Perception", "CC-102", True),
    ("Motion Control", "CC-103", True),
    ("Fleet Software", "CC-104", True),
    ("Data", "CC-105", True),
    ("Developer Experience", "CC-106", True),
    ("Mobile", "CC-107", False),
    ("Security", "CC-108", False),
)
_TEAM_WEIGHTS = (16, 15, 14, 14, 12, 10, 10, 9)

_LEVELS = ("L3", "L4", "L5", "L6", "L7")
_LEVEL_WEIGHTS = (15, 30, 30, 18, 7)
TITLE_BY_LEVEL: dict[str, str] = {
    "L3": "Software Engineer",
    "L4": "Software Engineer",
    "L5": "Software Engineer",
    "L6": "Senior Software Engineer",
    "L7": "Staff Software Engineer",
}
_YOE = {"L3": (0, 2), "L4": (2, 5), "L5": (4, 10), "L6": (7, 15), "L7": (10, 25)}
# SF medians in USD: base, stock per year, bonus
_PAY_SF = {
    "L3": (150_000, 40_000, 12_000),
    "L4": (180_000, 80_000, 18_000),
    "L5": (210_000, 145_000, 25_000),
    "L6": (245_000, 230_000, 35_000),
    "L7": (285_000, 380_000, 45_000),
}
# (location, roster weight, base multiplier, stock multiplier)
_LOCATIONS: tuple[tuple[str, int, float, float], ...] = (
    ("San Francisco, CA", 25, 1.00, 1.00),
    ("New York, NY", 15, 0.98, 0.95),
    ("Seattle, WA", 15, 0.95, 0.95),
    ("Austin, TX", 10, 0.86, 0.80),
    ("London, England, United Kingdom", 15, 0.62, 0.45),
    ("Berlin, Berlin, Germany", 10, 0.55, 0.35),
    ("Toronto, Ontario, Canada", 10, 0.58, 0.40),
)
_SPARSE_CELLS = frozenset(
    {("L7", "London, England, United Kingdom"), ("L7", "Berlin, Berlin, Germany"), ("L7", "Toronto, Ontario, Canada")}
)
# Noise companies in the salary file: (name, pay multiplier)
_OTHER_COMPANIES = (("Globex Automation", 0.92), ("Initech Robotics", 1.08), ("Hooli", 1.25))

_FIRST = (  # noqa: SIM905 - a compact word list
    "aaron adele ahmed aisha alex alice amara ana andrei anika ben bianca carlos chen chloe daniel "
    "dara david diego elena emma eric fatima felix grace hana hugo ian ines isaac jack jamal jana "
    "jin jonas julia kai karim kate leo lina lucas maya mei mia nadia nina noah olga omar oscar "
    "priya rafael ravi rosa sam sara sofia tariq theo uma victor wei yara yusuf zoe"
).split()
_LAST = (  # noqa: SIM905 - a compact word list
    "abbott adler alvarez bauer becker brooks castro chan cohen costa diaz dubois eriksen evans "
    "fischer foster garcia gupta hahn hansen ito jensen kaur keller khan kim kowalski larsen lee "
    "lopez martin meyer morales nakamura nguyen novak okafor olsen park patel perez quinn reyes "
    "rossi sato schmidt silva singh smith sousa tanaka torres vogel wagner walsh weber wong young zhang"
).split()
_REPOS = (
    "api",
    "fleet-manager",
    "perception-stack",
    "motion-planner",
    "infra",
    "web-console",
    "data-pipelines",
    "mobile-app",
    "sim",
    "firmware-tools",
)
_CC_VERSIONS = ("2.0.64", "2.0.70", "2.0.76", "2.1.3", "2.1.9")
_PROMPTS = (
    "fix the flaky test in the planner module",
    "add retries to the fleet sync client",
    "explain why this query is slow",
    "refactor the config loader to use dataclasses",
    "write unit tests for the calibration parser",
    "bump the grpc dependency and fix the build",
    "review this diff for race conditions",
    "add a metrics endpoint",
)
_TOOLS = ("Read", "Edit", "Bash", "Grep", "Write", "Glob")
_SUMMARIES = (
    "Fix flaky planner test",
    "Add retries to fleet sync client",
    "Refactor config loader",
    "Unit tests for calibration parser",
    "Investigate slow query",
)

ANTHROPIC_MODELS: dict[str, str] = {
    "claude-sonnet-4-5-20250929": "Claude Sonnet 4.5",
    "claude-opus-4-1-20250805": "Claude Opus 4.1",
    "claude-haiku-4-5-20251001": "Claude Haiku 4.5",
}
OPENAI_MODELS: tuple[str, ...] = ("gpt-5-2025-08-07", "gpt-5-mini-2025-08-07", "gpt-4.1-2025-04-14")
_SONNET, _OPUS, _HAIKU = tuple(ANTHROPIC_MODELS)
_GPT5, _GPT5_MINI, _GPT41 = OPENAI_MODELS

CW_BASE = "0-200k"
CW_LONG = "200k-1M"
# Anthropic token kinds, in the order the token tuples below use.
ANTHROPIC_TOKEN_TYPES: tuple[str, ...] = (
    "uncached_input_tokens",
    "cache_read_input_tokens",
    "cache_creation.ephemeral_5m_input_tokens",
    "cache_creation.ephemeral_1h_input_tokens",
    "output_tokens",
)
_ANTHROPIC_DESCRIPTION = (
    "Input Tokens",
    "Input Tokens, Cache Hit",
    "Input Tokens, Cache Write 5m",
    "Input Tokens, Cache Write 1h",
    "Output Tokens",
)
# OpenAI billed line items: uncached input, cached input, output.
_OPENAI_LINE_SUFFIX = ("input", "cached input", "output")

_DAY_MS = 86_400_000
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_HEX = "0123456789abcdef"
_PAGE_LIMIT = 7
_DEC_MARK = "@@DEC@@"
_DEC_MARK_RE = re.compile(r'"' + _DEC_MARK + r'([0-9.]+)"')


# --------------------------------------------------------------------------------------------------
# Public result
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoTruth:
    """What a demo run wrote, and the figures the pipeline must reproduce from it.

    `data` is the parsed content of `path` (`truth.json`); `out_dir` is the landing inbox written to.
    """

    out_dir: Path
    path: Path
    data: dict[str, Any]

    @property
    def tokenmaxxers(self) -> list[str]:
        """Engineers whose annualized list spend exceeds their band's base salary p50."""
        return list(self.data["tokenmaxxers"])

    @property
    def billed_usd(self) -> dict[str, Decimal]:
        """Billed dollars per provider, exactly as the cost exports sum."""
        return {k: Decimal(v) for k, v in self.data["billed_usd"].items()}

    @property
    def list_usd(self) -> dict[str, Decimal]:
        """List-price dollars per provider over every usage row."""
        return {k: Decimal(v) for k, v in self.data["list_usd"].items()}


# --------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------


def dec_text(value: Decimal) -> str:
    """Plain decimal text of an exact amount: no exponent, no trailing zeros ("0" for zero)."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _rfc3339(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def _unix(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def _ts(day: date, ms: int) -> str:
    s, milli = divmod(ms, 1000)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{day.isoformat()}T{h:02d}:{m:02d}:{sec:02d}.{milli:03d}Z"


def _chunks(items: Sequence[date], size: int) -> Iterator[Sequence[date]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _dumps(obj: object) -> str:
    """Compact JSON with fixed key order; `_DEC_MARK` strings become bare JSON numbers."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return _DEC_MARK_RE.sub(r"\1", text) if _DEC_MARK in text else text


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    _write_text(path, buf.getvalue())


class _Ids:
    """Provider-shaped random identifiers drawn from the demo's single random stream."""

    def __init__(self, rng: Random) -> None:
        self._rng = rng

    def b62(self, n: int) -> str:
        return "".join(self._rng.choices(_B62, k=n))

    def hexs(self, n: int) -> str:
        return "".join(self._rng.choices(_HEX, k=n))

    def uuid4(self) -> str:
        h = self.hexs(32)
        variant = "89ab"[self._rng.randrange(4)]
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:32]}"


# --------------------------------------------------------------------------------------------------
# Prices (exact, from genai-prices) and float approximations used only to size token counts
# --------------------------------------------------------------------------------------------------


class _PriceBook:
    """Per-MTok list prices per token kind, by model, UTC day and context window."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str, date, str], tuple[Decimal, ...]] = {}

    @staticmethod
    def _total(provider: str, model: str, day: date, **tokens: int) -> Decimal:
        when = datetime(day.year, day.month, day.day, tzinfo=UTC)
        calc = calc_price(Usage(**tokens), model, provider_id=provider, genai_request_timestamp=when)
        return Decimal(calc.total_price)

    def anthropic(self, model: str, day: date, cw: str) -> tuple[Decimal, ...]:
        """(uncached, cache read, cache write 5m, cache write 1h, output) USD per MTok."""
        key = ("anthropic", model, day, cw)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        # 100k input stays under every long-context threshold; 300k input crosses the 200k tier.
        n = 300_000 if cw == CW_LONG else 100_000
        t = self._total
        with localcontext() as ctx:
            ctx.prec = 60
            plain = t("anthropic", model, day, input_tokens=n)
            prices = (
                plain,
                t("anthropic", model, day, input_tokens=n, cache_read_tokens=n),
                t("anthropic", model, day, input_tokens=n, cache_write_tokens=n, cache_write_5m_tokens=n),
                t("anthropic", model, day, input_tokens=n, cache_write_tokens=n, cache_write_1h_tokens=n),
                t("anthropic", model, day, input_tokens=n, output_tokens=n) - plain,
            )
            out = tuple((p * _MILLION / n).normalize() for p in prices)
        self._cache[key] = out
        return out

    def openai(self, model: str, day: date) -> tuple[Decimal, ...]:
        """(uncached input, cached input, output) USD per MTok."""
        key = ("openai", model, day, CW_BASE)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        n = 100_000
        t = self._total
        with localcontext() as ctx:
            ctx.prec = 60
            plain = t("openai", model, day, input_tokens=n)
            prices = (
                plain,
                t("openai", model, day, input_tokens=n, cache_read_tokens=n),
                t("openai", model, day, input_tokens=n, output_tokens=n) - plain,
            )
            out = tuple((p * _MILLION / n).normalize() for p in prices)
        self._cache[key] = out
        return out


def _list_cost(tokens: Sequence[int], prices: Sequence[Decimal]) -> Decimal:
    """Exact list cost: Σ tokens × price per MTok ÷ 1e6."""
    with localcontext() as ctx:
        ctx.prec = 60
        total = sum((Decimal(t) * p for t, p in zip(tokens, prices, strict=True)), Decimal(0))
        return total.scaleb(-6)


# --------------------------------------------------------------------------------------------------
# Engineers
# --------------------------------------------------------------------------------------------------


@dataclass
class _Eng:
    """One engineer: HR facts, identities, and the spending profile the simulation draws from."""

    idx: int
    eid: str
    first: str
    last: str
    email: str
    roster_email: str
    team: int
    level: str
    location: str
    valid_from: date
    valid_to: date | None = None
    promo_date: date | None = None
    promo_to: str | None = None
    tokenmaxxer: bool = False
    non_spender: bool = False
    cc: bool = False
    uses_anthropic: bool = False
    uses_openai: bool = False
    anth_key: str | None = None  # personal key: Claude Code users' CC key, everyone else's API key
    anth_api_key: str | None = None  # Claude Code users' second key for non-CC API work
    oai_key: str | None = None
    oai_user: str | None = None
    shared_key: str | None = None
    anth_daily: float = 0.0  # mean list USD per active day
    oai_daily: float = 0.0
    daily_cap: float = 0.0  # hard ceiling on list USD per day (keeps non-tokenmaxxers well under base)
    p_weekday: float = 0.8
    p_weekend: float = 0.1
    opus_share: float = 0.0
    haiku_share: float = 0.0
    gpt41_share: float = 0.0
    mini_share: float = 0.3
    long_ctx: bool = False
    cache_1h: bool = False
    home: str = ""
    repos: list[str] = field(default_factory=list)
    cc_version: str = "2.0.76"

    def employed(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)

    def level_on(self, day: date) -> str:
        if self.promo_date is not None and self.promo_to is not None and day >= self.promo_date:
            return self.promo_to
        return self.level


@dataclass(frozen=True)
class _Final:
    """The last streamed line of one Claude Code response, kept so a sidechain can replay it."""

    t: int
    model: str
    msg_id: str
    block: dict[str, Any]
    stop: str
    tokens: list[int]


# --------------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------------


class _Demo:
    """One generation run: the organisation, its simulated usage, and the files and truth it writes."""

    def __init__(
        self,
        out_dir: Path,
        *,
        engineers: int,
        days: int,
        end: date,
        seed: int,
        company: str,
        progress: ProgressFn | None,
    ) -> None:
        if engineers < 1:
            raise ValueError("engineers must be at least 1")
        if days < 1:
            raise ValueError("days must be at least 1")
        self.out = out_dir
        self.n = engineers
        self.n_days = days
        self.end = end
        self.start = end - timedelta(days=days - 1)
        self.days = [self.start + timedelta(days=i) for i in range(days)]
        self.seed = seed
        self.company = company
        slug = re.sub(r"[^a-z0-9]", "", (company.split() or ["acme"])[0].lower()) or "acme"
        self.domain = f"{slug}.example"
        self.rng = Random(seed)
        self.ids = _Ids(self.rng)
        self.progress = progress
        self.prices = _PriceBook()
        self.engs: list[_Eng] = []
        self.files_written = 0
        self.rows: dict[str, int] = {}
        # usage accumulators (insertion order is deterministic; outputs are sorted anyway)
        self.anth: dict[tuple[date, str, str | None, str, str], list[int]] = {}
        self.oai: dict[tuple[date, str, str | None, str, str], list[int]] = {}
        self.eng_anth: dict[tuple[str, date, str, str], list[int]] = {}
        self.eng_oai: dict[tuple[str, date, str], list[int]] = {}
        self.malformed: list[dict[str, Any]] = []
        self._malformed_target: str | None = None
        self._malformed_fallback: str | None = None  # first session file written (line 2 = a partial line)
        # filled by build_org / build_salaries / assign_roles
        self.workspaces: list[str | None] = []
        self.projects: list[str] = []
        self.ci_project = ""
        self.salary_rows: list[tuple[str, str, str, str, str, int, int, int, int, int]] = []
        self.base_p50: dict[tuple[str, str], float] = {}
        self.tokenmaxxers: list[_Eng] = []
        self.promoted: list[_Eng] = []
        self.joiners: list[_Eng] = []
        self.leavers: list[_Eng] = []
        self.shared: dict[str, list[_Eng]] = {}
        self.shared_ws: dict[str, str | None] = {}
        # Claude Code tokens each member sent through their shared key: (key, eid, day, model, cw) -> tokens
        self.shared_use: dict[tuple[str, str, date, str, str], list[int]] = {}
        self.anth_unknown: list[str] = []
        self.oai_unknown: list[str] = []

    # -- progress -------------------------------------------------------------------------------

    def _tick(self, stage: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(stage, done, total)

    # -- organisation ---------------------------------------------------------------------------

    def build_org(self) -> None:
        rng, ids = self.rng, self.ids
        self.workspaces: list[str | None] = [f"wrkspc_01{ids.b62(22)}" if has_ws else None for _, _, has_ws in _TEAMS]
        self.projects = [f"proj_{ids.b62(24)}" for _ in _TEAMS]
        self.ci_project = f"proj_{ids.b62(24)}"

        used: set[tuple[str, str]] = set()
        loc_names = [loc[0] for loc in _LOCATIONS]
        loc_weights = [loc[1] for loc in _LOCATIONS]
        for i in range(self.n):
            for _ in range(50):
                first, last = rng.choice(_FIRST), rng.choice(_LAST)
                if (first, last) not in used:
                    break
            suffix = ""
            if (first, last) in used:
                suffix = str(i + 1)
            used.add((first, last))
            local = f"{first}.{last}{suffix}"
            email = f"{local}@{self.domain}"
            roster_email = email
            if rng.random() < 0.05:
                roster_email = self._mixed_case(local)
            eng = _Eng(
                idx=i,
                eid=f"E{i + 1:04d}",
                first=first,
                last=last,
                email=email,
                roster_email=roster_email,
                team=rng.choices(range(len(_TEAMS)), weights=_TEAM_WEIGHTS)[0],
                level=rng.choices(_LEVELS, weights=_LEVEL_WEIGHTS)[0],
                location=rng.choices(loc_names, weights=loc_weights)[0],
                valid_from=self.start - timedelta(days=rng.randint(120, 3000)),
            )
            home = f"/Users/{first}" if rng.random() < 0.8 else f"/home/{first}"
            eng.home = home
            eng.repos = rng.sample(_REPOS, rng.randint(1, 4))
            eng.cc_version = rng.choice(_CC_VERSIONS)
            self.engs.append(eng)
        if all(e.roster_email == e.email for e in self.engs):
            # HR systems keep whatever case was typed; make sure matching must ignore it at least once.
            e = self.engs[rng.randrange(self.n)]
            e.roster_email = self._mixed_case(e.email.split("@")[0])

    def _mixed_case(self, local: str) -> str:
        """An HR-typed spelling of an address: "Jane.Doe@…" or "JANE.DOE@…" (truth stays lower-case)."""
        return f"{local.title() if self.rng.random() < 0.5 else local.upper()}@{self.domain}"

    def _inside_window(self) -> date:
        """A date strictly after the window start and at most its end (the start if days == 1)."""
        if self.n_days < 2:
            return self.start
        return self.start + timedelta(days=self.rng.randint(1, self.n_days - 1))

    def assign_roles(self) -> None:
        rng = self.rng
        n = self.n
        pool = list(range(n))
        taken: set[int] = set()

        def pick(k: int, ok: Callable[[_Eng], bool]) -> list[_Eng]:
            cands = [i for i in pool if i not in taken and ok(self.engs[i])]
            chosen = sorted(rng.sample(cands, min(k, len(cands))))
            taken.update(chosen)
            return [self.engs[i] for i in chosen]

        self.tokenmaxxers = pick(max(2, round(0.025 * n)), lambda e: (e.level, e.location) not in _SPARSE_CELLS)
        self.promoted = pick(max(1, round(0.03 * n)), lambda e: e.level != "L7")
        self.joiners = pick(max(1, round(0.04 * n)), lambda e: True)
        self.leavers = pick(max(1, round(0.03 * n)), lambda e: True)
        self.non_spender_plan = pick(max(1, round(0.15 * n)), lambda e: True)
        for e in self.tokenmaxxers:
            e.tokenmaxxer = True
        for e in self.promoted:
            e.promo_date = self._inside_window()
            e.promo_to = _LEVELS[_LEVELS.index(e.level) + 1]
        for e in self.joiners:
            e.valid_from = self._inside_window()
        for e in self.leavers:
            e.valid_to = self._inside_window()
        for e in self.non_spender_plan:
            e.non_spender = True

        # Claude Code users: a quarter of the company, enough to fill two shared keys and keep
        # at least two on personal keys.
        spenders = [e.idx for e in self.engs if not e.non_spender and not e.tokenmaxxer]
        n_cc = min(len(spenders), max(round(0.25 * n), 8))
        cc_idx = sorted(rng.sample(spenders, n_cc))
        for i in cc_idx:
            self.engs[i].cc = True
        shareable = n_cc - 2
        free = list(cc_idx)
        for k in range(2):
            if shareable < 3:
                break
            # the first key leaves at least three users for the second one
            size = min(rng.randint(3, 5), shareable - 3 if k == 0 and shareable >= 6 else shareable)
            members = sorted(rng.sample(free, size))
            free = [i for i in free if i not in members]
            shareable -= size
            key = f"apikey_01{self.ids.b62(22)}"
            self.shared[key] = [self.engs[i] for i in members]
            lead_ws = self.workspaces[self.engs[members[0]].team]
            self.shared_ws[key] = None if k == 0 else (lead_ws or self.workspaces[0])
            for i in members:
                self.engs[i].shared_key = key

        # Unknown principals: traffic from keys no alias covers (CI bots, a forgotten key).
        self.anth_unknown = [f"apikey_01{self.ids.b62(22)}" for _ in range(2)]
        self.oai_unknown = [f"key_{self.ids.b62(16)}" for _ in range(2)]

        for e in self.engs:
            self._profile(e)

    def _profile(self, e: _Eng) -> None:
        """Draw one engineer's providers, keys, model mix and spending level."""
        rng, ids = self.rng, self.ids
        if e.tokenmaxxer or e.cc:
            e.uses_anthropic = True
            e.uses_openai = rng.random() < 0.5
        elif not e.non_spender:
            r = rng.random()
            e.uses_anthropic = r < 0.35 or r >= 0.7
            e.uses_openai = r >= 0.35
        if e.uses_anthropic and e.shared_key is None:
            e.anth_key = f"apikey_01{ids.b62(22)}"
        if e.uses_openai:
            e.oai_key = f"key_{ids.b62(16)}"
        if e.uses_openai or rng.random() < 0.5:
            e.oai_user = f"user-{ids.b62(24)}"
        e.p_weekday = rng.uniform(0.45, 0.95)
        e.p_weekend = rng.uniform(0.0, 0.25)
        e.opus_share = rng.uniform(0.1, 0.5) if rng.random() < 0.3 else 0.0
        e.haiku_share = rng.uniform(0.0, 0.3)
        e.gpt41_share = rng.uniform(0.05, 0.4) if rng.random() < 0.3 else 0.0
        e.mini_share = rng.uniform(0.05, 0.5)
        e.cache_1h = rng.random() < 0.25
        # Monthly list spend: log-logistic (heavy tail) around a median, built from one uniform draw.
        u = rng.random()
        median = 60.0 if e.cc else 30.0
        monthly = median * u / (1.0 - u) if u < 0.999 else median * 999.0
        share_anth = rng.uniform(0.2, 0.8) if (e.uses_anthropic and e.uses_openai) else 1.0
        active = (5 * e.p_weekday + 2 * e.p_weekend) / 7
        base_p50 = self.band_base_p50(e)
        # Normal engineers never exceed half their band's base, even on their busiest day.
        e.daily_cap = 0.5 * base_p50 / 365
        if e.tokenmaxxer:
            e.p_weekday = e.p_weekend = 1.0
            annual = rng.uniform(1.7, 2.5) * base_p50
            daily = annual / 365
            e.daily_cap = daily * 2
            e.long_ctx = True
            e.opus_share = rng.uniform(0.2, 0.4)
            e.haiku_share = rng.uniform(0.0, 0.1)
            share_anth = rng.uniform(0.6, 0.9) if e.uses_openai else 1.0
            e.anth_daily = daily * share_anth
            e.oai_daily = daily * (1 - share_anth)
            return
        monthly = min(monthly, 2_000.0)
        per_active_day = monthly * 12 / 365 / max(active, 0.05)
        e.long_ctx = monthly > 300
        if e.uses_anthropic:
            e.anth_daily = per_active_day * share_anth
        if e.uses_openai:
            e.oai_daily = per_active_day * (1 - share_anth) if e.uses_anthropic else per_active_day
        if e.cc and e.anth_daily > 3.0:
            # heavier Claude Code users also run scripts on a second, non-CC key
            e.anth_api_key = f"apikey_01{ids.b62(22)}"

    # -- salaries -------------------------------------------------------------------------------

    def build_salaries(self) -> None:
        rng = self.rng
        rows: list[tuple[str, str, str, str, str, int, int, int, int, int]] = []

        def submit(company: str, level: str, loc: tuple[str, int, float, float], mult: float) -> None:
            base_sf, stock_sf, bonus_sf = _PAY_SF[level]
            noise = rng.uniform(0.88, 1.12)
            base = round(base_sf * loc[2] * mult * noise / 500) * 500
            stock = round(stock_sf * loc[3] * mult * rng.uniform(0.6, 1.4) / 500) * 500
            bonus = round(bonus_sf * loc[2] * mult * rng.uniform(0.5, 1.5) / 100) * 100
            stamp = (self.end - timedelta(days=rng.randint(0, 729))).isoformat()
            yoe = rng.randint(*_YOE[level])
            rows.append(
                (stamp, company, level, TITLE_BY_LEVEL[level], loc[0], yoe, base, stock, bonus, base + stock + bonus)
            )

        for level in _LEVELS:
            for loc in _LOCATIONS:
                k = rng.randint(1, 3) if (level, loc[0]) in _SPARSE_CELLS else rng.randint(10, 40)
                for _ in range(k):
                    submit(self.company, level, loc, 1.0)
        for company, mult in _OTHER_COMPANIES:
            for level in _LEVELS:
                for loc in _LOCATIONS:
                    if rng.random() < 0.6:
                        for _ in range(rng.randint(3, 15)):
                            submit(company, level, loc, mult)
        rows.sort(key=lambda r: (r[0], r[1], r[2], r[4], r[6], r[7], r[8]))
        self.salary_rows = rows
        bases: dict[tuple[str, str], list[int]] = {}
        for r in rows:
            if r[1] == self.company:
                bases.setdefault((r[2], r[4]), []).append(r[6])
        self.base_p50 = {k: float(statistics.median(v)) for k, v in bases.items()}

    def band_base_p50(self, e: _Eng, day: date | None = None) -> float:
        level = e.level_on(day) if day is not None else e.level
        return self.base_p50[(level, e.location)]

    # -- reference files ------------------------------------------------------------------------

    def write_reference(self) -> None:
        roster: list[tuple[object, ...]] = []
        for e in self.engs:
            team, cc, _ = _TEAMS[e.team]
            name = f"{e.first.capitalize()} {e.last.capitalize()}"
            vt = e.valid_to.isoformat() if e.valid_to else ""
            if e.promo_date is not None and e.promo_to is not None:
                roster.append(
                    (
                        e.eid,
                        e.roster_email,
                        name,
                        team,
                        cc,
                        e.level,
                        TITLE_BY_LEVEL[e.level],
                        e.location,
                        e.valid_from.isoformat(),
                        e.promo_date.isoformat(),
                    )
                )
                roster.append(
                    (
                        e.eid,
                        e.roster_email,
                        name,
                        team,
                        cc,
                        e.promo_to,
                        TITLE_BY_LEVEL[e.promo_to],
                        e.location,
                        e.promo_date.isoformat(),
                        vt,
                    )
                )
            else:
                roster.append(
                    (
                        e.eid,
                        e.roster_email,
                        name,
                        team,
                        cc,
                        e.level,
                        TITLE_BY_LEVEL[e.level],
                        e.location,
                        e.valid_from.isoformat(),
                        vt,
                    )
                )
        header = ("engineer_id", "email", "name", "team", "cost_centre", "level", "title", "location")
        self._csv("roster/roster.csv", (*header, "valid_from", "valid_to"), roster)

        aliases: list[tuple[object, ...]] = []
        for e in self.engs:
            vf, vt = e.valid_from.isoformat(), (e.valid_to.isoformat() if e.valid_to else "")
            aliases.append((e.eid, "email", e.email, vf, vt))
            for key in (e.anth_key, e.anth_api_key):
                if key:
                    aliases.append((e.eid, "api_key_id", key, vf, vt))
            if e.oai_key:
                aliases.append((e.eid, "api_key_id", e.oai_key, vf, vt))
            if e.oai_user:
                aliases.append((e.eid, "openai_user_id", e.oai_user, vf, vt))
        self._csv("aliases/aliases.csv", ("engineer_id", "kind", "value", "valid_from", "valid_to"), aliases)

        # the shared keys, declared with their members over each member's employment
        members: list[tuple[object, ...]] = [
            ("anthropic", "api_key_id", key, e.eid, e.valid_from.isoformat(), e.valid_to or "")
            for key, engs in self.shared.items()
            for e in engs
        ]
        self._csv(
            "route_members/route_members.csv",
            ("provider", "principal_kind", "principal_id", "engineer_id", "valid_from", "valid_to"),
            members,
        )

        scopes: list[tuple[object, ...]] = []
        since = (self.start - timedelta(days=900)).isoformat()
        for (team, cc, _), ws in zip(_TEAMS, self.workspaces, strict=True):
            if ws:
                scopes.append(("anthropic", "workspace", ws, team, cc, since, ""))
        scopes.append(("anthropic", "workspace", "default", "Default Workspace", _TEAMS[0][1], since, ""))
        for (team, cc, _), proj in zip(_TEAMS, self.projects, strict=True):
            scopes.append(("openai", "project", proj, f"{team.lower().replace(' ', '-')}", cc, since, ""))
        scopes.append(("openai", "project", self.ci_project, "ci-services", _TEAMS[0][1], since, ""))
        self._csv(
            "scopes/scopes.csv",
            ("provider", "scope_kind", "scope_id", "name", "cost_centre", "valid_from", "valid_to"),
            scopes,
        )
        self._csv(
            "salaries/levels_fyi.csv",
            (
                "timestamp",
                "company",
                "level",
                "title",
                "location",
                "yearsofexperience",
                "base",
                "stock",
                "bonus",
                "total",
            ),
            self.salary_rows,
        )

    def _csv(self, rel: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        _write_csv(self.out / rel, header, rows)
        self.files_written += 1
        self.rows[rel.split("/")[0]] = len(rows)

    # -- usage simulation -----------------------------------------------------------------------

    def _active(self, e: _Eng, day: date) -> bool:
        if not e.employed(day):
            return False
        p = e.p_weekday if day.weekday() < 5 else e.p_weekend
        return self.rng.random() < p

    def _day_spend(self, e: _Eng, mean: float) -> float:
        lo, hi = (0.85, 1.15) if e.tokenmaxxer else (0.3, 1.7)
        return min(mean * self.rng.uniform(lo, hi), e.daily_cap)

    def _add_anth(self, key: tuple[date, str, str | None, str, str], tokens: Sequence[int]) -> None:
        acc = self.anth.get(key)
        if acc is None:
            self.anth[key] = list(tokens)
        else:
            for i, t in enumerate(tokens):
                acc[i] += t

    def _add_eng_anth(self, eid: str, day: date, model: str, cw: str, tokens: Sequence[int]) -> None:
        key = (eid, day, model, cw)
        acc = self.eng_anth.get(key)
        if acc is None:
            self.eng_anth[key] = list(tokens)
        else:
            for i, t in enumerate(tokens):
                acc[i] += t

    def _float_prices(self, provider: str, model: str, day: date, cw: str = CW_BASE) -> list[float]:
        if provider == "anthropic":
            return [float(p) for p in self.prices.anthropic(model, day, cw)]
        return [float(p) for p in self.prices.openai(model, day)]

    def _anth_api_tokens(self, model: str, day: date, cw: str, spend: float, cache_1h: bool) -> list[int]:
        """Aggregated daily API tokens on one model whose list cost is about `spend` USD."""
        rng = self.rng
        long = cw == CW_LONG
        ratios = [
            rng.uniform(0.5, 4.0),
            rng.uniform(40.0, 120.0) if long else rng.uniform(3.0, 25.0),
            rng.uniform(0.2, 1.5),
            rng.uniform(0.0, 0.4) if cache_1h else 0.0,
            1.0,
        ]
        prices = self._float_prices("anthropic", model, day, cw)
        unit = sum(r * p for r, p in zip(ratios, prices, strict=True)) / 1e6
        out = spend / unit
        tokens = [int(r * out + 0.5) for r in ratios]
        tokens[4] = max(tokens[4], 1)
        return tokens

    def _model_split(self, e: _Eng, provider: str) -> list[tuple[str, float]]:
        if provider == "anthropic":
            rest = max(0.0, 1.0 - e.opus_share - e.haiku_share)
            return [(_SONNET, rest), (_OPUS, e.opus_share), (_HAIKU, e.haiku_share)]
        rest = max(0.0, 1.0 - e.gpt41_share - e.mini_share)
        return [(_GPT5, rest), (_GPT5_MINI, e.mini_share), (_GPT41, e.gpt41_share)]

    def _anth_api_day(self, e: _Eng, day: date, key: str, spend: float) -> None:
        """One engineer's aggregated Anthropic API usage on one key and day, about `spend` list USD."""
        ws = self.workspaces[e.team]
        for model, share in self._model_split(e, "anthropic"):
            part = spend * share
            if part < 0.002:
                continue
            parts = [(CW_BASE, part)]
            if model == _SONNET and e.long_ctx:
                long_share = 0.3 if e.tokenmaxxer else 0.15
                parts = [(CW_BASE, part * (1 - long_share)), (CW_LONG, part * long_share)]
            for cw, amount in parts:
                tokens = self._anth_api_tokens(model, day, cw, amount, e.cache_1h)
                self._add_anth((day, key, ws, model, cw), tokens)
                self._add_eng_anth(e.eid, day, model, cw, tokens)

    def simulate_api(self) -> None:
        """Daily API usage of engineers (Claude Code users excepted) and of the unknown keys."""
        total = len(self.engs)
        for n_done, e in enumerate(self.engs, start=1):
            for day in self.days:
                if e.cc or not (e.uses_anthropic or e.uses_openai) or not self._active(e, day):
                    continue
                if e.uses_anthropic:
                    assert e.anth_key is not None
                    self._anth_api_day(e, day, e.anth_key, self._day_spend(e, e.anth_daily))
                if e.uses_openai:
                    self._oai_day(e, day)
            self._tick("usage", n_done, total)

        rng = self.rng
        bot, stray = self.anth_unknown
        obot, ostray = self.oai_unknown
        for i, day in enumerate(self.days):
            for model, lo, hi in ((_HAIKU, 4.0, 14.0), (_SONNET, 3.0, 12.0)):
                tokens = self._anth_api_tokens(model, day, CW_BASE, rng.uniform(lo, hi), False)
                self._add_anth((day, bot, self.workspaces[0], model, CW_BASE), tokens)
            if i == 0 or rng.random() < 0.3:
                tokens = self._anth_api_tokens(_SONNET, day, CW_BASE, rng.uniform(1.0, 10.0), False)
                self._add_anth((day, stray, None, _SONNET, CW_BASE), tokens)
            for model, lo, hi in ((_GPT5_MINI, 2.0, 8.0), (_GPT41, 1.0, 6.0)):
                self._add_oai(
                    (day, self.ci_project, None, obot, model), self._oai_tokens(model, day, rng.uniform(lo, hi))
                )
            if i == 0 or rng.random() < 0.4:
                row = self._oai_tokens(_GPT5, day, rng.uniform(2.0, 8.0))
                self._add_oai((day, self.projects[-1], None, ostray, _GPT5), row)

    def _oai_day(self, e: _Eng, day: date) -> None:
        """One engineer's OpenAI usage on their personal key and day."""
        spend = self._day_spend(e, e.oai_daily)
        assert e.oai_key is not None
        for model, share in self._model_split(e, "openai"):
            part = spend * share
            if part < 0.002:
                continue
            row = self._oai_tokens(model, day, part)
            self._add_oai((day, self.projects[e.team], e.oai_user, e.oai_key, model), row)
            acc = self.eng_oai.setdefault((e.eid, day, model), [0, 0, 0])
            acc[0] += row[3]
            acc[1] += row[1]
            acc[2] += row[4]

    def _oai_tokens(self, model: str, day: date, spend: float) -> list[int]:
        """[input, cached, cache write, uncached, output, requests] whose list cost is about `spend`."""
        rng = self.rng
        in_ratio = rng.uniform(3.0, 15.0)
        cached_frac = rng.uniform(0.1, 0.5) if model == _GPT41 else rng.uniform(0.3, 0.85)
        p_in, p_cached, p_out = self._float_prices("openai", model, day)
        unit = (in_ratio * ((1 - cached_frac) * p_in + cached_frac * p_cached) + p_out) / 1e6
        out = max(1, int(spend / unit + 0.5))
        inp = max(1, int(out * in_ratio + 0.5))
        cached = int(inp * cached_frac)
        requests = max(1, inp // rng.randint(6_000, 30_000))
        return [inp, cached, 0, inp - cached, out, requests]

    def _add_oai(self, key: tuple[date, str, str | None, str, str], row: Sequence[int]) -> None:
        acc = self.oai.get(key)
        if acc is None:
            self.oai[key] = list(row)
        else:
            for i, v in enumerate(row):
                acc[i] += v

    # -- Claude Code logs -----------------------------------------------------------------------

    def simulate_claude_code(self) -> None:
        """Session logs of Claude Code users; every deduplicated message also lands in usage."""
        cc_users = [e for e in self.engs if e.cc]
        personal = [e for e in cc_users if e.shared_key is None]
        pool = personal or cc_users
        self._malformed_target = self.rng.choice(pool).eid if pool else None
        for n_done, e in enumerate(cc_users, start=1):
            key = e.shared_key or e.anth_key
            assert key is not None
            ws = self.shared_ws[key] if e.shared_key else self.workspaces[e.team]
            for day in self.days:
                if self._active(e, day):
                    self._cc_day(e, day, key, ws)
            if self._malformed_target == e.eid and not self.malformed and n_done < len(cc_users):
                self._malformed_target = cc_users[n_done].eid  # no activity: the next user carries it
            self._tick("claude_code_logs", n_done, len(cc_users))
        if not self.malformed and self._malformed_fallback is not None:
            # The chosen users were idle: truncate the first streamed line of the first session instead.
            path = self.out / self._malformed_fallback
            lines = path.read_text(encoding="utf-8").split("\n")
            lines[1] = lines[1][: len(lines[1]) // 2]
            _write_text(path, "\n".join(lines))
            self.malformed.append({"file": self._malformed_fallback, "line": 2})

    def _cc_day(self, e: _Eng, day: date, key: str, ws: str | None) -> None:
        """A Claude Code user's day: one or two sessions, then any further spend on their API key."""
        rng = self.rng
        target = self._day_spend(e, e.anth_daily)
        n_sessions = 1 if rng.random() < 0.7 else 2
        starts = sorted(rng.randint(6 * 3600, 19 * 3600) * 1000 for _ in range(n_sessions))
        spent = 0.0
        for start_ms in starts:
            spent += self._cc_session(e, day, key, ws, start_ms, rng.randint(2, 12))
        if e.anth_api_key is not None and target - spent > 0.05:
            self._anth_api_day(e, day, e.anth_api_key, target - spent)
        if e.uses_openai:
            self._oai_day(e, day)

    def _cc_tokens(self, e: _Eng, model: str, ctx: int, fresh: bool, long_ok: bool) -> tuple[list[int], str, int]:
        """One response's usage: (uncached, cache read, 5m write, 1h write, output), window, new context."""
        rng = self.rng
        uncached = rng.randint(1, 12) if rng.random() < 0.9 else rng.randint(100, 4_000)
        if fresh:
            read, write = 0, ctx
        else:
            read = ctx
            write = rng.randint(200, 6_000) if rng.random() < 0.85 else rng.randint(10_000, 30_000)
        if not long_ok:
            write = max(0, min(write, 199_000 - read - uncached))
        u = rng.random()
        output = 30 + int(2_500 * u * u)
        total_in = uncached + read + write
        cw = CW_LONG if total_in > 200_000 else CW_BASE
        w5, w1 = (0, write) if e.cache_1h else (write, 0)
        return [uncached, read, w5, w1, output], cw, total_in + output

    def _cc_session(self, e: _Eng, day: date, key: str, ws: str | None, start_ms: int, max_msgs: int) -> float:
        """Write one session file (and maybe a subagent file); return its approximate list USD."""
        rng, ids = self.rng, self.ids
        repo = rng.choice(e.repos)
        cwd = f"{e.home}/src/{repo}"
        proj_dir = cwd.replace("/", "-").replace(".", "-")
        session = ids.uuid4()
        branch = "main" if rng.random() < 0.5 else f"feat/{rng.choice(_REPOS)}-{rng.randint(100, 999)}"
        model = _OPUS if rng.random() < e.opus_share else _SONNET
        long_ok = model == _SONNET and e.long_ctx
        limit = 600_000 if long_ok else 170_000
        prices = {cw: self._float_prices("anthropic", model, day, cw) for cw in (CW_BASE, CW_LONG)}
        base: dict[str, Any] = {
            "parentUuid": None,
            "isSidechain": False,
            "userType": "external",
            "cwd": cwd,
            "sessionId": session,
            "version": e.cc_version,
            "gitBranch": branch,
        }
        lines: list[str] = []
        finals: list[_Final] = []  # completed responses a subagent file may replay
        t = start_ms
        ctx = rng.randint(12_000, 28_000)
        fresh = True
        parent: str | None = None
        spent = 0.0
        n_msgs = 0
        want_malformed = self._malformed_target == e.eid and not self.malformed
        malformed_line: int | None = None
        while n_msgs < max_msgs:
            t += rng.randint(2_000, 90_000)
            if t + 120_000 >= _DAY_MS:
                break
            n_msgs += 1
            uid = ids.uuid4()
            if n_msgs == 1:
                content: Any = rng.choice(_PROMPTS)
            else:
                content = [{"type": "tool_result", "tool_use_id": f"toolu_01{ids.b62(22)}", "content": "ok"}]
            lines.append(
                _dumps(
                    {
                        **base,
                        "parentUuid": parent,
                        "type": "user",
                        "message": {"role": "user", "content": content},
                        "uuid": uid,
                        "timestamp": _ts(day, t),
                    }
                )
            )
            parent = uid
            if ctx > limit:
                ctx = rng.randint(15_000, 35_000)
                fresh = True
            tokens, cw, ctx = self._cc_tokens(e, model, ctx, fresh, long_ok)
            fresh = False
            msg_id = f"msg_01{ids.b62(22)}"
            req_id = f"req_011C{ids.b62(19)}"
            n_lines = rng.choice((2, 3, 3))
            output = tokens[4]
            partials = [1] if n_lines == 2 else [1, rng.randint(1, max(1, output - 1))]
            stop = "tool_use" if rng.random() < 0.7 else "end_turn"
            for j, out_tokens in enumerate([*partials, output]):
                last = j == n_lines - 1
                t += rng.randint(300, 6_000)
                aid = ids.uuid4()
                if last and stop == "tool_use":
                    block: dict[str, Any] = {
                        "type": "tool_use",
                        "id": f"toolu_01{ids.b62(22)}",
                        "name": rng.choice(_TOOLS),
                        "input": {"file_path": f"{repo}/src/main.py"},
                    }
                elif j == 0 and n_lines == 3:
                    block = {"type": "thinking", "thinking": "...", "signature": f"Ep{ids.b62(10)}"}
                else:
                    block = {"type": "text", "text": "Done." if last else "Looking at the code."}
                line = self._assistant_line(
                    base, parent, req_id, aid, day, t, model, msg_id, block, stop if last else None, tokens, out_tokens
                )
                if want_malformed and malformed_line is None and j == 0:
                    # Truncate an early streamed line: its final sibling still carries the full usage.
                    malformed_line = len(lines) + 1
                    line = line[: len(line) // 2]
                lines.append(line)
                parent = aid
                if last:
                    finals.append(_Final(t, model, msg_id, block, stop, tokens))
            self._count_cc(e, key, ws, day, model, cw, tokens)
            spent += sum(a * b for a, b in zip(tokens, prices[cw], strict=True)) / 1e6
            if rng.random() < 0.02:
                t += rng.randint(500, 3_000)
                eid_ = ids.uuid4()
                lines.append(
                    _dumps(
                        {
                            **base,
                            "parentUuid": parent,
                            "type": "assistant",
                            "uuid": eid_,
                            "timestamp": _ts(day, t),
                            "isApiErrorMessage": True,
                            "message": {
                                "model": "<synthetic>",
                                "id": ids.uuid4(),
                                "type": "message",
                                "role": "assistant",
                                "content": [{"type": "text", "text": "API Error: 529 overloaded"}],
                                "stop_reason": "stop_sequence",
                                "stop_sequence": "",
                                "usage": {
                                    "input_tokens": 0,
                                    "output_tokens": 0,
                                    "cache_creation_input_tokens": 0,
                                    "cache_read_input_tokens": 0,
                                },
                            },
                        }
                    )
                )
                parent = eid_
        if not lines:
            return 0.0
        if rng.random() < 0.5:
            lines.append(_dumps({"type": "summary", "summary": rng.choice(_SUMMARIES), "leafUuid": parent}))
        rel = f"claude_code_logs/{e.email}/projects/{proj_dir}/{session}.jsonl"
        _write_text(self.out / rel, "\n".join(lines) + "\n")
        self.files_written += 1
        self.rows["claude_code_logs"] = self.rows.get("claude_code_logs", 0) + len(lines)
        if malformed_line is not None:
            self.malformed.append({"file": rel, "line": malformed_line})
        if self._malformed_fallback is None:
            self._malformed_fallback = rel
        if finals and rng.random() < 0.3:
            spent += self._cc_subagent(e, day, key, ws, base, model, session, proj_dir, finals)
        return spent

    def _assistant_line(
        self,
        base: dict[str, Any],
        parent: str | None,
        req_id: str,
        uid: str,
        day: date,
        t: int,
        model: str,
        msg_id: str,
        block: dict[str, Any],
        stop: str | None,
        tokens: Sequence[int],
        out_tokens: int,
        extra: dict[str, Any] | None = None,
    ) -> str:
        return _dumps(
            {
                **base,
                **(extra or {}),
                "parentUuid": parent,
                "type": "assistant",
                "requestId": req_id,
                "uuid": uid,
                "timestamp": _ts(day, t),
                "message": {
                    "model": model,
                    "id": msg_id,
                    "type": "message",
                    "role": "assistant",
                    "content": [block],
                    "stop_reason": stop,
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": tokens[0],
                        "cache_creation_input_tokens": tokens[2] + tokens[3],
                        "cache_read_input_tokens": tokens[1],
                        "cache_creation": {
                            "ephemeral_5m_input_tokens": tokens[2],
                            "ephemeral_1h_input_tokens": tokens[3],
                        },
                        "output_tokens": out_tokens,
                        "service_tier": "standard",
                    },
                },
            }
        )

    def _cc_subagent(
        self,
        e: _Eng,
        day: date,
        key: str,
        ws: str | None,
        base: dict[str, Any],
        model: str,
        session: str,
        proj_dir: str,
        finals: list[_Final],
    ) -> float:
        """A sidechain file: one replayed parent message (same id, new requestId) plus its own calls."""
        rng, ids = self.rng, self.ids
        agent = ids.hexs(8)
        sbase = {**base, "isSidechain": True}
        extra = {"agentId": agent}
        replay = finals[rng.randrange(len(finals))]
        t = min(replay.t + rng.randint(1_000, 20_000), _DAY_MS - 60_000)
        uid = ids.uuid4()
        replay_req = f"req_011C{ids.b62(19)}"
        lines = [
            self._assistant_line(
                sbase,
                None,
                replay_req,
                uid,
                day,
                t,
                replay.model,
                replay.msg_id,
                replay.block,
                replay.stop,
                replay.tokens,
                replay.tokens[4],
                extra,
            )
        ]
        parent = uid
        spent = 0.0
        for _ in range(rng.randint(1, 3)):
            t += rng.randint(1_000, 8_000)
            if t >= _DAY_MS - 10_000:
                break
            sub_model = _HAIKU if rng.random() < 0.6 else model
            tokens, cw, _ = self._cc_tokens(e, sub_model, rng.randint(8_000, 30_000), rng.random() < 0.5, False)
            msg_id = f"msg_01{ids.b62(22)}"
            req_id = f"req_011C{ids.b62(19)}"
            outs = [tokens[4]] if rng.random() < 0.4 else [1, tokens[4]]
            for j, out_tokens in enumerate(outs):
                last = j == len(outs) - 1
                t += rng.randint(200, 2_000)
                uid = ids.uuid4()
                block = {"type": "text", "text": "Found 3 matches." if last else "Searching."}
                lines.append(
                    self._assistant_line(
                        sbase,
                        parent,
                        req_id,
                        uid,
                        day,
                        t,
                        sub_model,
                        msg_id,
                        block,
                        "end_turn" if last else None,
                        tokens,
                        out_tokens,
                        extra,
                    )
                )
                parent = uid
            self._count_cc(e, key, ws, day, sub_model, cw, tokens)
            prices = self._float_prices("anthropic", sub_model, day, cw)
            spent += sum(a * b for a, b in zip(tokens, prices, strict=True)) / 1e6
        rel = f"claude_code_logs/{e.email}/projects/{proj_dir}/{session}/subagents/agent-{agent}.jsonl"
        _write_text(self.out / rel, "\n".join(lines) + "\n")
        self.files_written += 1
        self.rows["claude_code_logs"] = self.rows.get("claude_code_logs", 0) + len(lines)
        return spent

    def _count_cc(
        self, e: _Eng, key: str, ws: str | None, day: date, model: str, cw: str, tokens: Sequence[int]
    ) -> None:
        self._add_anth((day, key, ws, model, cw), tokens)
        self._add_eng_anth(e.eid, day, model, cw, tokens)
        if e.shared_key is not None:
            acc = self.shared_use.setdefault((key, e.eid, day, model, cw), [0] * len(tokens))
            for i, t in enumerate(tokens):
                acc[i] += t

    # -- provider exports -----------------------------------------------------------------------

    def _pages(self, source: str, stem: str, pages: list[dict[str, Any]]) -> None:
        for i, page in enumerate(pages, start=1):
            _write_text(self.out / source / f"{stem}_{i:04d}.json", _dumps(page) + "\n")
            self.files_written += 1

    @staticmethod
    def _anth_cursor(day: date) -> str:
        return "page_" + base64.b64encode(_rfc3339(day).encode()).decode()

    @staticmethod
    def _oai_cursor(day: date, salt: int) -> str:
        raw = _unix(day).to_bytes(8, "big") + salt.to_bytes(8, "big")
        return "page_" + base64.b64encode(raw).decode()

    def write_anthropic(self) -> dict[str, Any]:
        by_day: dict[date, list[tuple[tuple[date, str, str | None, str, str], list[int]]]] = {d: [] for d in self.days}
        for k, v in self.anth.items():
            by_day[k[0]].append((k, v))
        pages: list[dict[str, Any]] = []
        cost_pages: list[dict[str, Any]] = []
        chunks = list(_chunks(self.days, _PAGE_LIMIT))
        list_total = Decimal(0)
        billed_total = Decimal(0)
        billed_by_day: dict[str, str] = {}
        n_rows = n_cost = 0
        for ci, chunk in enumerate(chunks):
            usage_buckets: list[dict[str, Any]] = []
            cost_buckets: list[dict[str, Any]] = []
            for day in chunk:
                rows = sorted(by_day[day], key=lambda kv: (kv[0][1], kv[0][2] or "", kv[0][3], kv[0][4]))
                results = [
                    {
                        "account_id": None,
                        "api_key_id": k[1],
                        "cache_creation": {"ephemeral_1h_input_tokens": v[3], "ephemeral_5m_input_tokens": v[2]},
                        "cache_read_input_tokens": v[1],
                        "context_window": k[4],
                        "inference_geo": None,
                        "model": k[3],
                        "output_tokens": v[4],
                        "server_tool_use": {"web_search_requests": 0},
                        "service_account_id": None,
                        "service_tier": None,
                        "speed": None,
                        "uncached_input_tokens": v[0],
                        "workspace_id": k[2],
                    }
                    for k, v in rows
                ]
                n_rows += len(results)
                usage_buckets.append(
                    {"starting_at": _rfc3339(day), "ending_at": _rfc3339(day + timedelta(days=1)), "results": results}
                )
                # billed lines: aggregate usage rows by (workspace, model, context window) × token type
                agg: dict[tuple[str | None, str, str], list[int]] = {}
                for k, v in rows:
                    acc = agg.setdefault((k[2], k[3], k[4]), [0, 0, 0, 0, 0])
                    for i in range(5):
                        acc[i] += v[i]
                day_billed = Decimal(0)
                cost_results: list[dict[str, Any]] = []
                for (ws, model, cw), tok in sorted(agg.items(), key=lambda kv: (kv[0][0] or "", kv[0][1], kv[0][2])):
                    prices = self.prices.anthropic(model, day, cw)
                    for i, token_type in enumerate(ANTHROPIC_TOKEN_TYPES):
                        if tok[i] == 0:
                            continue
                        list_cost = _list_cost([tok[i]], [prices[i]])
                        billed = list_cost * _ANTHROPIC_KEEP
                        cents = billed * 100
                        list_total += list_cost
                        day_billed += billed
                        desc = f"{ANTHROPIC_MODELS[model]} Usage - {_ANTHROPIC_DESCRIPTION[i]}"
                        if cw == CW_LONG:
                            desc += ", Long Context"
                        cost_results.append(
                            {
                                "amount": dec_text(cents),
                                "context_window": cw,
                                "cost_type": "tokens",
                                "currency": "USD",
                                "description": desc,
                                "inference_geo": None,
                                "model": model,
                                "service_tier": "standard",
                                "token_type": token_type,
                                "workspace_id": ws,
                            }
                        )
                n_cost += len(cost_results)
                billed_total += day_billed
                billed_by_day[day.isoformat()] = dec_text(day_billed)
                cost_buckets.append(
                    {
                        "starting_at": _rfc3339(day),
                        "ending_at": _rfc3339(day + timedelta(days=1)),
                        "results": cost_results,
                    }
                )
            last = ci == len(chunks) - 1
            cursor = None if last else self._anth_cursor(chunks[ci + 1][0])
            pages.append({"data": usage_buckets, "has_more": not last, "next_page": cursor})
            cost_pages.append({"data": cost_buckets, "has_more": not last, "next_page": cursor})
            self._tick("anthropic_exports", ci + 1, len(chunks))
        self._pages("anthropic_usage", "usage_report_messages", pages)
        self._pages("anthropic_cost", "cost_report", cost_pages)
        self.rows["anthropic_usage"] = n_rows
        self.rows["anthropic_cost"] = n_cost
        return {"list": list_total, "billed": billed_total, "by_day": billed_by_day}

    def write_openai(self) -> dict[str, Any]:
        by_day: dict[date, list[tuple[tuple[date, str, str | None, str, str], list[int]]]] = {d: [] for d in self.days}
        for k, v in self.oai.items():
            by_day[k[0]].append((k, v))
        chunks = list(_chunks(self.days, _PAGE_LIMIT))
        pages: list[dict[str, Any]] = []
        cost_pages: list[dict[str, Any]] = []
        list_total = Decimal(0)
        billed_total = Decimal(0)
        billed_by_day: dict[str, str] = {}
        n_rows = n_cost = 0
        for ci, chunk in enumerate(chunks):
            buckets: list[dict[str, Any]] = []
            cost_buckets: list[dict[str, Any]] = []
            for day in chunk:
                rows = sorted(by_day[day], key=lambda kv: (kv[0][1], kv[0][2] or "", kv[0][3], kv[0][4]))
                results = [
                    {
                        "object": "organization.usage.completions.result",
                        "input_tokens": v[0],
                        "input_cached_tokens": v[1],
                        "input_cache_write_tokens": v[2],
                        "input_uncached_tokens": v[3],
                        "output_tokens": v[4],
                        "input_text_tokens": v[0],
                        "output_text_tokens": v[4],
                        "input_cached_text_tokens": v[1],
                        "input_audio_tokens": 0,
                        "input_cached_audio_tokens": 0,
                        "output_audio_tokens": 0,
                        "input_image_tokens": 0,
                        "input_cached_image_tokens": 0,
                        "output_image_tokens": 0,
                        "num_model_requests": v[5],
                        "project_id": k[1],
                        "user_id": k[2],
                        "api_key_id": k[3],
                        "model": k[4],
                        "batch": None,
                        "service_tier": None,
                    }
                    for k, v in rows
                ]
                n_rows += len(results)
                start, stop = _unix(day), _unix(day + timedelta(days=1))
                buckets.append({"object": "bucket", "start_time": start, "end_time": stop, "results": results})
                agg: dict[tuple[str, str], list[int]] = {}
                for k, v in rows:
                    acc = agg.setdefault((k[1], k[4]), [0, 0, 0])
                    acc[0] += v[3] + v[2]  # cache writes bill at the input rate (always 0 here)
                    acc[1] += v[1]
                    acc[2] += v[4]
                day_billed = Decimal(0)
                cost_results: list[dict[str, Any]] = []
                for (project, model), tok in sorted(agg.items()):
                    prices = self.prices.openai(model, day)
                    for i, suffix in enumerate(_OPENAI_LINE_SUFFIX):
                        if tok[i] == 0:
                            continue
                        list_cost = _list_cost([tok[i]], [prices[i]])
                        with localcontext() as ctx:
                            ctx.prec = 60
                            billed = (list_cost * _OPENAI_KEEP).quantize(_TEN_DP, rounding=ROUND_HALF_EVEN)
                        list_total += list_cost
                        day_billed += billed
                        text = dec_text(billed)
                        if "." not in text:
                            text += ".0"
                        cost_results.append(
                            {
                                "object": "organization.costs.result",
                                "amount": {"value": _DEC_MARK + text, "currency": "usd"},
                                "line_item": f"{model}, {suffix}",
                                "project_id": project,
                                "api_key_id": None,
                                "quantity": tok[i],
                                "quantity_unit": "tokens",
                            }
                        )
                n_cost += len(cost_results)
                billed_total += day_billed
                billed_by_day[day.isoformat()] = dec_text(day_billed)
                cost_buckets.append(
                    {"object": "bucket", "start_time": start, "end_time": stop, "results": cost_results}
                )
            last = ci == len(chunks) - 1
            nxt = None if last else chunks[ci + 1][0]
            pages.append(
                {
                    "object": "page",
                    "data": buckets,
                    "has_more": not last,
                    "next_page": None if nxt is None else self._oai_cursor(nxt, 1),
                }
            )
            cost_pages.append(
                {
                    "object": "page",
                    "data": cost_buckets,
                    "has_more": not last,
                    "next_page": None if nxt is None else self._oai_cursor(nxt, 2),
                }
            )
            self._tick("openai_exports", ci + 1, len(chunks))
        self._pages("openai_usage", "usage_completions", pages)
        self._pages("openai_costs", "costs", cost_pages)
        self.rows["openai_usage"] = n_rows
        self.rows["openai_costs"] = n_cost
        return {"list": list_total, "billed": billed_total, "by_day": billed_by_day}

    # -- truth ----------------------------------------------------------------------------------

    def engineer_list(self) -> dict[str, dict[str, Decimal]]:
        out = {e.eid: {"anthropic": Decimal(0), "openai": Decimal(0)} for e in self.engs}
        for (eid, day, model, cw), tok in self.eng_anth.items():
            out[eid]["anthropic"] += _list_cost(tok, self.prices.anthropic(model, day, cw))
        for (eid, day, model), tok in self.eng_oai.items():
            out[eid]["openai"] += _list_cost(tok, self.prices.openai(model, day))
        return out

    def shared_list(self) -> dict[str, dict[str, str]]:
        """Each shared key's true users and the list USD each of them ran through it (0 for idle members)."""
        out = {k: {e.eid: Decimal(0) for e in sorted(engs, key=lambda e: e.eid)} for k, engs in self.shared.items()}
        for (key, eid, day, model, cw), tok in self.shared_use.items():
            out[key][eid] += _list_cost(tok, self.prices.anthropic(model, day, cw))
        return {k: {eid: dec_text(v) for eid, v in users.items()} for k, users in out.items()}

    def truth(self, anth: dict[str, Any], oai: dict[str, Any]) -> dict[str, Any]:
        eng_list = self.engineer_list()
        principals: dict[str, str] = {}
        for e in self.engs:
            principals[f"email:{e.email}"] = e.eid
            for kind, value in (
                ("api_key_id", e.anth_key),
                ("api_key_id", e.anth_api_key),
                ("api_key_id", e.oai_key),
                ("openai_user_id", e.oai_user),
            ):
                if value:
                    principals[f"{kind}:{value}"] = e.eid
        over_base: list[str] = []
        for e in self.engs:
            employed = sum(1 for d in self.days if e.employed(d))
            spend = eng_list[e.eid]["anthropic"] + eng_list[e.eid]["openai"]
            if employed == 0 or spend == 0:
                continue
            last_day = max(d for d in self.days if e.employed(d))
            annualized = spend / employed * 365
            if annualized > Decimal(str(self.band_base_p50(e, last_day))):
                over_base.append(e.eid)
        unknown = [*self.anth_unknown, *self.oai_unknown]
        shared = list(self.shared)
        return {
            "seed": self.seed,
            "end": self.end.isoformat(),
            "days": self.n_days,
            "engineers": self.n,
            "company": self.company,
            "window": {"start": self.start.isoformat(), "end": self.end.isoformat()},
            "discounts": {"anthropic": "0.10", "openai": "0.05"},
            "billed_usd": {"anthropic": dec_text(anth["billed"]), "openai": dec_text(oai["billed"])},
            "billed_usd_by_day": {"anthropic": anth["by_day"], "openai": oai["by_day"]},
            "list_usd": {"anthropic": dec_text(anth["list"]), "openai": dec_text(oai["list"])},
            "principals": dict(sorted(principals.items())),
            "shared_keys": self.shared_list(),
            "unknown_keys": unknown,
            "engineer_list_usd": {
                eid: {"anthropic": dec_text(v["anthropic"]), "openai": dec_text(v["openai"])}
                for eid, v in eng_list.items()
            },
            "tokenmaxxers": [e.eid for e in self.tokenmaxxers],
            "non_spenders": [eid for eid, v in eng_list.items() if v["anthropic"] == 0 and v["openai"] == 0],
            "joiners": [e.eid for e in self.joiners],
            "leavers": [e.eid for e in self.leavers],
            "promotions": [
                {
                    "engineer_id": e.eid,
                    "date": e.promo_date.isoformat() if e.promo_date else None,
                    "from_level": e.level,
                    "to_level": e.promo_to,
                }
                for e in self.promoted
            ],
            "malformed_lines": list(self.malformed),
            "alerts": {"spend_over_base": over_base, "unknown_key": unknown, "shared_key": shared},
            "counts": {"files": self.files_written, "rows": dict(sorted(self.rows.items()))},
        }


def generate(
    out_dir: Path,
    *,
    engineers: int = 200,
    days: int = 90,
    end: date,
    seed: int = 7,
    company: str = "Acme Robotics",
    progress: ProgressFn | None = None,
) -> DemoTruth:
    """Write a synthetic company into the landing inbox `out_dir` and return its ground truth.

    The window is the `days` UTC days ending at `end` inclusive. Reference files (roster, aliases,
    scopes, salaries) and provider exports (one API response page per file) land under `out_dir`;
    `truth.json` goes to `out_dir.parent / "demo"`. The same (seed, end, engineers, days, company)
    always produces byte-identical files. `progress(stage, done, total)` reports long stages.
    Files are (over)written in place: pass a fresh inbox to avoid mixing with an earlier demo.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    demo = _Demo(out_dir, engineers=engineers, days=days, end=end, seed=seed, company=company, progress=progress)
    demo.build_org()
    demo._tick("roster", 0, 1)
    demo.build_salaries()
    demo.assign_roles()
    demo.write_reference()
    demo._tick("roster", 1, 1)
    demo.simulate_api()
    demo.simulate_claude_code()
    anth = demo.write_anthropic()
    oai = demo.write_openai()
    data = demo.truth(anth, oai)
    truth_path = out_dir.parent / "demo" / "truth.json"
    _write_text(truth_path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    demo._tick("truth", 1, 1)
    return DemoTruth(out_dir=out_dir, path=truth_path, data=data)
