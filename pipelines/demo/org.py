"""The organisation: who works where, at what level, who joins, leaves or is promoted, and how each one spends.

`build_company` draws, in this order, the people, their pay bands, their roles (tokenmaxxers, promotions,
joiners, leavers, non-spenders, heavy users, surgers, Claude Code users, shared keys, unknown keys) and each
one's spending profile. The order is part of the output: every draw comes from the one random stream.
Tokenmaxxers, heavy users and surgers are there for the alerts (`alerts.py`): each is sized far from the
threshold of the rule it must raise, and everyone else stays under 40% of base.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from random import Random

from pipelines.demo import pay
from pipelines.demo.company import (
    CC_VERSIONS,
    FIRST_NAMES,
    LAST_NAMES,
    LEVEL_WEIGHTS,
    LEVELS,
    LOCATIONS,
    REPOS,
    SPARSE_CELLS,
    TEAM_WEIGHTS,
    TEAMS,
    Engineer,
)
from pipelines.demo.formats import Ids


@dataclass(frozen=True)
class Window:
    """The demo's UTC days: `days` days ending at `end` inclusive."""

    start: date
    end: date
    days: list[date]

    @classmethod
    def ending(cls, end: date, days: int) -> Window:
        """The `days` days ending at `end`."""
        start = end - timedelta(days=days - 1)
        return cls(start=start, end=end, days=[start + timedelta(days=i) for i in range(days)])

    @property
    def n_days(self) -> int:
        """How many days the window holds."""
        return len(self.days)


@dataclass
class Company:
    """The fictional company: its engineers, workspaces and projects, pay bands and special cases."""

    name: str
    domain: str
    window: Window
    engs: list[Engineer] = field(default_factory=list)
    workspaces: list[str | None] = field(default_factory=list)  # per team; None = the default workspace
    projects: list[str] = field(default_factory=list)  # OpenAI project per team
    ci_project: str = ""
    salary_rows: list[pay.SalaryRow] = field(default_factory=list)
    base_p50: dict[tuple[str, str], float] = field(default_factory=dict)
    tokenmaxxers: list[Engineer] = field(default_factory=list)
    heavy: list[Engineer] = field(default_factory=list)
    surgers: list[Engineer] = field(default_factory=list)
    promoted: list[Engineer] = field(default_factory=list)
    joiners: list[Engineer] = field(default_factory=list)
    leavers: list[Engineer] = field(default_factory=list)
    shared: dict[str, list[Engineer]] = field(default_factory=dict)  # shared Anthropic key -> its users
    shared_ws: dict[str, str | None] = field(default_factory=dict)  # shared key -> its workspace
    anth_unknown: list[str] = field(default_factory=list)  # Anthropic keys no alias covers
    oai_unknown: list[str] = field(default_factory=list)  # OpenAI keys no alias covers

    def band_base_p50(self, e: Engineer, day: date | None = None) -> float:
        """Base salary p50 of the engineer's band (their level on `day`, else their starting level)."""
        level = e.level_on(day) if day is not None else e.level
        return self.base_p50[(level, e.location)]


def build_company(rng: Random, ids: Ids, *, name: str, engineers: int, window: Window) -> Company:
    """Draw the whole organisation: people, pay submissions, roles, then each engineer's profile."""
    slug = re.sub(r"[^a-z0-9]", "", (name.split() or ["acme"])[0].lower()) or "acme"
    company = Company(name=name, domain=f"{slug}.example", window=window)
    _people(company, rng, ids, engineers)
    # submissions are dated before the window, so every demo month sees the same (current) bands
    company.salary_rows = pay.submissions(rng, name, window.start - timedelta(days=1))
    company.base_p50 = pay.base_medians(company.salary_rows, name)
    _roles(company, rng, ids)
    for e in company.engs:
        _profile(company, rng, ids, e)
    return company


def _mixed_case(rng: Random, local: str, domain: str) -> str:
    """An HR-typed spelling of an address: "Jane.Doe@…" or "JANE.DOE@…" (truth stays lower-case)."""
    return f"{local.title() if rng.random() < 0.5 else local.upper()}@{domain}"


def _inside_window(rng: Random, window: Window) -> date:
    """A date strictly after the window start and at most its end (the start if days == 1)."""
    if window.n_days < 2:
        return window.start
    return window.start + timedelta(days=rng.randint(1, window.n_days - 1))


def _people(company: Company, rng: Random, ids: Ids, n: int) -> None:
    """Workspaces, projects and the engineers' HR facts (names, emails, teams, levels, places)."""
    company.workspaces = [f"wrkspc_01{ids.b62(22)}" if has_ws else None for _, _, has_ws in TEAMS]
    company.projects = [f"proj_{ids.b62(24)}" for _ in TEAMS]
    company.ci_project = f"proj_{ids.b62(24)}"

    used: set[tuple[str, str]] = set()
    loc_names = [loc[0] for loc in LOCATIONS]
    loc_weights = [loc[1] for loc in LOCATIONS]
    for i in range(n):
        for _ in range(50):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            if (first, last) not in used:
                break
        suffix = ""
        if (first, last) in used:
            suffix = str(i + 1)
        used.add((first, last))
        local = f"{first}.{last}{suffix}"
        email = f"{local}@{company.domain}"
        roster_email = email
        if rng.random() < 0.05:
            roster_email = _mixed_case(rng, local, company.domain)
        eng = Engineer(
            idx=i,
            eid=f"E{i + 1:04d}",
            first=first,
            last=last,
            email=email,
            roster_email=roster_email,
            team=rng.choices(range(len(TEAMS)), weights=TEAM_WEIGHTS)[0],
            level=rng.choices(LEVELS, weights=LEVEL_WEIGHTS)[0],
            location=rng.choices(loc_names, weights=loc_weights)[0],
            valid_from=company.window.start - timedelta(days=rng.randint(120, 3000)),
        )
        home = f"/Users/{first}" if rng.random() < 0.8 else f"/home/{first}"
        eng.home = home
        eng.repos = rng.sample(REPOS, rng.randint(1, 4))
        eng.cc_version = rng.choice(CC_VERSIONS)
        company.engs.append(eng)
    if all(e.roster_email == e.email for e in company.engs):
        # HR systems keep whatever case was typed; make sure matching must ignore it at least once.
        e = company.engs[rng.randrange(n)]
        e.roster_email = _mixed_case(rng, e.email.split("@")[0], company.domain)


def surge_day(window: Window, min_days: int = 14) -> date | None:
    """The first day of the latest month that has at least `min_days` days in the window, as has the month
    before it: surgers' spend jumps there, so a month-over-month alert compares two well-covered months."""
    covered: dict[date, int] = {}
    for day in window.days:
        covered[day.replace(day=1)] = covered.get(day.replace(day=1), 0) + 1
    months = sorted(m for m, n in covered.items() if n >= min_days)
    for month in reversed(months):
        previous = (month - timedelta(days=1)).replace(day=1)
        if previous in months:
            return month
    return None


def _roles(company: Company, rng: Random, ids: Ids) -> None:
    """Tokenmaxxers, promotions, joiners, leavers, non-spenders, Claude Code users and the special keys."""
    engs = company.engs
    n = len(engs)
    pool = list(range(n))
    taken: set[int] = set()

    def pick(k: int, ok: Callable[[Engineer], bool]) -> list[Engineer]:
        cands = [i for i in pool if i not in taken and ok(engs[i])]
        chosen = sorted(rng.sample(cands, min(k, len(cands))))
        taken.update(chosen)
        return [engs[i] for i in chosen]

    company.tokenmaxxers = pick(max(2, round(0.025 * n)), lambda e: (e.level, e.location) not in SPARSE_CELLS)
    company.promoted = pick(max(1, round(0.03 * n)), lambda e: e.level != "L7")
    company.joiners = pick(max(1, round(0.04 * n)), lambda e: True)
    company.leavers = pick(max(1, round(0.03 * n)), lambda e: True)
    non_spenders = pick(max(1, round(0.15 * n)), lambda e: True)
    heavy = pick(max(1, round(0.02 * n)), lambda e: (e.level, e.location) not in SPARSE_CELLS)
    surgers = pick(max(1, round(0.02 * n)), lambda e: True)
    for e in company.tokenmaxxers:
        e.tokenmaxxer = True
    for e in company.promoted:
        e.promo_date = _inside_window(rng, company.window)
        e.promo_to = LEVELS[LEVELS.index(e.level) + 1]
    for e in company.joiners:
        e.valid_from = _inside_window(rng, company.window)
    for e in company.leavers:
        e.valid_to = _inside_window(rng, company.window)
    for e in non_spenders:
        e.non_spender = True
    for e in heavy:
        e.heavy = True
    surge = surge_day(company.window)
    company.heavy = heavy
    company.surgers = surgers if surge is not None else []
    for e in company.surgers:
        e.surge_from = surge

    # Claude Code users: a quarter of the company, enough to fill two shared keys and keep
    # at least two on personal keys.
    spenders = [e.idx for e in engs if not e.non_spender and not e.steady]
    n_cc = min(len(spenders), max(round(0.25 * n), 8))
    cc_idx = sorted(rng.sample(spenders, n_cc))
    for i in cc_idx:
        engs[i].cc = True
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
        key = f"apikey_01{ids.b62(22)}"
        company.shared[key] = [engs[i] for i in members]
        lead_ws = company.workspaces[engs[members[0]].team]
        company.shared_ws[key] = None if k == 0 else (lead_ws or company.workspaces[0])
        for i in members:
            engs[i].shared_key = key

    # Unknown principals: traffic from keys no alias covers (CI bots, a forgotten key).
    company.anth_unknown = [f"apikey_01{ids.b62(22)}" for _ in range(2)]
    company.oai_unknown = [f"key_{ids.b62(16)}" for _ in range(2)]


def _profile(company: Company, rng: Random, ids: Ids, e: Engineer) -> None:
    """Draw one engineer's providers, keys, model mix and spending level."""
    if e.tokenmaxxer or e.heavy or e.cc:
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
    base_p50 = company.band_base_p50(e)
    # Normal engineers never exceed 40% of their band's base, even on their busiest day.
    e.daily_cap = 0.4 * base_p50 / 365
    if e.tokenmaxxer or e.heavy:
        e.p_weekday = e.p_weekend = 1.0
        # tokenmaxxers spend more than their base a year, heavy users 70-80% of it: each far from 50% and 100%
        annual = (rng.uniform(1.7, 2.5) if e.tokenmaxxer else rng.uniform(0.7, 0.8)) * base_p50
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
    if e.surge_from is not None:
        # every day active at $6-10 list before the surge (so the month before it passes $50), 5x from it on
        e.p_weekday = e.p_weekend = 1.0
        per_active_day = rng.uniform(6.0, 10.0)
    e.long_ctx = monthly > 300
    if e.uses_anthropic:
        e.anth_daily = per_active_day * share_anth
    if e.uses_openai:
        e.oai_daily = per_active_day * (1 - share_anth) if e.uses_anthropic else per_active_day
    if e.cc and e.anth_daily > 3.0:
        # heavier Claude Code users also run scripts on a second, non-CC key
        e.anth_api_key = f"apikey_01{ids.b62(22)}"
