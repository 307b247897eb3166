"""The fictional company's fixed facts: teams, levels, pay, places, names, models, and one engineer's record.

These are the constants the simulation draws from; changing any of them changes every demo file.
Discounts are what each provider's bill takes off list price (billed = list × (1 − discount)).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

ANTHROPIC_DISCOUNT = Decimal("0.10")
OPENAI_DISCOUNT = Decimal("0.05")
ANTHROPIC_KEEP = 1 - ANTHROPIC_DISCOUNT
OPENAI_KEEP = 1 - OPENAI_DISCOUNT

# (team name, cost centre, has its own Anthropic workspace)
TEAMS: tuple[tuple[str, str, bool], ...] = (
    ("Platform", "CC-101", True),
    ("Perception", "CC-102", True),
    ("Motion Control", "CC-103", True),
    ("Fleet Software", "CC-104", True),
    ("Data", "CC-105", True),
    ("Developer Experience", "CC-106", True),
    ("Mobile", "CC-107", False),
    ("Security", "CC-108", False),
)
TEAM_WEIGHTS = (16, 15, 14, 14, 12, 10, 10, 9)

LEVELS = ("L3", "L4", "L5", "L6", "L7")
LEVEL_WEIGHTS = (15, 30, 30, 18, 7)
TITLE_BY_LEVEL: dict[str, str] = {
    "L3": "Software Engineer",
    "L4": "Software Engineer",
    "L5": "Software Engineer",
    "L6": "Senior Software Engineer",
    "L7": "Staff Software Engineer",
}
YOE = {"L3": (0, 2), "L4": (2, 5), "L5": (4, 10), "L6": (7, 15), "L7": (10, 25)}
# SF medians in USD: base, stock per year, bonus
PAY_SF = {
    "L3": (150_000, 40_000, 12_000),
    "L4": (180_000, 80_000, 18_000),
    "L5": (210_000, 145_000, 25_000),
    "L6": (245_000, 230_000, 35_000),
    "L7": (285_000, 380_000, 45_000),
}
# (location, roster weight, base multiplier, stock multiplier)
LOCATIONS: tuple[tuple[str, int, float, float], ...] = (
    ("San Francisco, CA", 25, 1.00, 1.00),
    ("New York, NY", 15, 0.98, 0.95),
    ("Seattle, WA", 15, 0.95, 0.95),
    ("Austin, TX", 10, 0.86, 0.80),
    ("London, England, United Kingdom", 15, 0.62, 0.45),
    ("Berlin, Berlin, Germany", 10, 0.55, 0.35),
    ("Toronto, Ontario, Canada", 10, 0.58, 0.40),
)
SPARSE_CELLS = frozenset(
    {("L7", "London, England, United Kingdom"), ("L7", "Berlin, Berlin, Germany"), ("L7", "Toronto, Ontario, Canada")}
)
# A surger's spend per day from the surge on, as a multiple of their spend before it.
SURGE_FACTOR = 5
# Noise companies in the salary file: (name, pay multiplier)
OTHER_COMPANIES = (("Globex Automation", 0.92), ("Initech Robotics", 1.08), ("Hooli", 1.25))

FIRST_NAMES = (  # noqa: SIM905 - a compact word list
    "aaron adele ahmed aisha alex alice amara ana andrei anika ben bianca carlos chen chloe daniel "
    "dara david diego elena emma eric fatima felix grace hana hugo ian ines isaac jack jamal jana "
    "jin jonas julia kai karim kate leo lina lucas maya mei mia nadia nina noah olga omar oscar "
    "priya rafael ravi rosa sam sara sofia tariq theo uma victor wei yara yusuf zoe"
).split()
LAST_NAMES = (  # noqa: SIM905 - a compact word list
    "abbott adler alvarez bauer becker brooks castro chan cohen costa diaz dubois eriksen evans "
    "fischer foster garcia gupta hahn hansen ito jensen kaur keller khan kim kowalski larsen lee "
    "lopez martin meyer morales nakamura nguyen novak okafor olsen park patel perez quinn reyes "
    "rossi sato schmidt silva singh smith sousa tanaka torres vogel wagner walsh weber wong young zhang"
).split()
REPOS = (
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
CC_VERSIONS = ("2.0.64", "2.0.70", "2.0.76", "2.1.3", "2.1.9")
PROMPTS = (
    "fix the flaky test in the planner module",
    "add retries to the fleet sync client",
    "explain why this query is slow",
    "refactor the config loader to use dataclasses",
    "write unit tests for the calibration parser",
    "bump the grpc dependency and fix the build",
    "review this diff for race conditions",
    "add a metrics endpoint",
)
TOOLS = ("Read", "Edit", "Bash", "Grep", "Write", "Glob")
SUMMARIES = (
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
SONNET, OPUS, HAIKU = tuple(ANTHROPIC_MODELS)
GPT5, GPT5_MINI, GPT41 = OPENAI_MODELS

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
ANTHROPIC_DESCRIPTION = (
    "Input Tokens",
    "Input Tokens, Cache Hit",
    "Input Tokens, Cache Write 5m",
    "Input Tokens, Cache Write 1h",
    "Output Tokens",
)
# OpenAI billed line items: uncached input, cached input, output.
OPENAI_LINE_SUFFIX = ("input", "cached input", "output")


@dataclass
class Engineer:
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
    heavy: bool = False  # spends between half and all of their band's base a year (alert run_rate_half_base only)
    surge_from: date | None = None  # from this day on, spends SURGE_FACTOR times as much (a month-over-month jump)
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
        """Whether the engineer is on the roster on `day` (joined on or before it, not yet left)."""
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)

    @property
    def steady(self) -> bool:
        """Whether the engineer's spend is sized on purpose (tokenmaxxer, heavy user or surger): every day
        active, little noise, so the alert each one must raise holds far from its threshold."""
        return self.tokenmaxxer or self.heavy or self.surge_from is not None

    def level_on(self, day: date) -> str:
        """The level in force on `day`: the promoted level from the promotion date on."""
        if self.promo_date is not None and self.promo_to is not None and day >= self.promo_date:
            return self.promo_to
        return self.level
