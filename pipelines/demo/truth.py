"""The ground truth of a demo run: what the pipeline must find, computed from the simulation directly.

`truth.json` states billed and list totals per provider (as the cost exports sum), each engineer's list
spend, who is behind each principal and each shared key, the unknown keys, the roster's special cases
and the alerts that must fire, so end-to-end tests can assert exact figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipelines.demo.alerts import expected_alerts
from pipelines.demo.company import ANTHROPIC_DISCOUNT, OPENAI_DISCOUNT
from pipelines.demo.formats import dec_text
from pipelines.demo.landing import Landing
from pipelines.demo.prices import list_cost
from pipelines.demo.writers.base import Billed, World


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


def engineer_list(world: World) -> dict[str, dict[str, Decimal]]:
    """Each engineer's list USD per provider, from the tokens they ran."""
    out = {e.eid: {"anthropic": Decimal(0), "openai": Decimal(0)} for e in world.company.engs}
    for (eid, day, model, cw), tok in world.usage.eng_anth.items():
        out[eid]["anthropic"] += list_cost(tok, world.prices.anthropic(model, day, cw))
    for (eid, day, model), tok in world.usage.eng_oai.items():
        out[eid]["openai"] += list_cost(tok, world.prices.openai(model, day))
    return out


def shared_list(world: World) -> dict[str, dict[str, str]]:
    """Each shared key's true users and the list USD each of them ran through it (0 for idle members)."""
    out = {
        k: {e.eid: Decimal(0) for e in sorted(engs, key=lambda e: e.eid)} for k, engs in world.company.shared.items()
    }
    for (key, eid, day, model, cw), tok in world.usage.shared_use.items():
        out[key][eid] += list_cost(tok, world.prices.anthropic(model, day, cw))
    return {k: {eid: dec_text(v) for eid, v in users.items()} for k, users in out.items()}


def build_truth(world: World, landing: Landing, bills: dict[str, Billed], seed: int) -> dict[str, Any]:
    """The content of `truth.json`: `bills` are the cost writers' totals, keyed by provider in writer order."""
    company = world.company
    window = company.window
    eng_list = engineer_list(world)
    principals: dict[str, str] = {}
    for e in company.engs:
        principals[f"email:{e.email}"] = e.eid
        for kind, value in (
            ("api_key_id", e.anth_key),
            ("api_key_id", e.anth_api_key),
            ("api_key_id", e.oai_key),
            ("openai_user_id", e.oai_user),
        ):
            if value:
                principals[f"{kind}:{value}"] = e.eid
    alerts = expected_alerts(world)
    unknown = [*company.anth_unknown, *company.oai_unknown]
    shared = list(company.shared)
    return {
        "seed": seed,
        "end": window.end.isoformat(),
        "days": window.n_days,
        "engineers": len(company.engs),
        "company": company.name,
        "window": {"start": window.start.isoformat(), "end": window.end.isoformat()},
        "discounts": {"anthropic": str(ANTHROPIC_DISCOUNT), "openai": str(OPENAI_DISCOUNT)},
        "billed_usd": {provider: dec_text(b.billed_usd) for provider, b in bills.items()},
        "billed_usd_by_day": {provider: b.by_day for provider, b in bills.items()},
        "list_usd": {provider: dec_text(b.list_usd) for provider, b in bills.items()},
        "principals": dict(sorted(principals.items())),
        "shared_keys": shared_list(world),
        "unknown_keys": unknown,
        "engineer_list_usd": {
            eid: {"anthropic": dec_text(v["anthropic"]), "openai": dec_text(v["openai"])} for eid, v in eng_list.items()
        },
        "tokenmaxxers": [e.eid for e in company.tokenmaxxers],
        "non_spenders": [eid for eid, v in eng_list.items() if v["anthropic"] == 0 and v["openai"] == 0],
        "joiners": [e.eid for e in company.joiners],
        "leavers": [e.eid for e in company.leavers],
        "promotions": [
            {
                "engineer_id": e.eid,
                "date": e.promo_date.isoformat() if e.promo_date else None,
                "from_level": e.level,
                "to_level": e.promo_to,
            }
            for e in company.promoted
        ],
        "malformed_lines": list(world.sessions.malformed),
        "heavy_users": [e.eid for e in company.heavy],
        "surgers": [e.eid for e in company.surgers],
        "alerts": {**alerts, "unknown_key": unknown, "shared_key": shared},
        "counts": {"files": landing.files, "rows": dict(sorted(landing.rows.items()))},
    }
