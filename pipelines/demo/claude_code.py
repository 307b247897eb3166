"""The Claude Code simulation: each user's sessions, streamed responses, sidechains and API errors.

Every deduplicated response also lands in the Anthropic usage accumulators (on the user's own key, or on
their shared key), exactly as Anthropic's usage report would count it. One streamed line in the demo is
cut short on purpose (`SessionFiles.malformed`); its final sibling line still carries the full usage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pipelines.demo.company import CW_BASE, CW_LONG, HAIKU, OPUS, PROMPTS, REPOS, SONNET, SUMMARIES, TOOLS, Engineer
from pipelines.demo.landing import ProgressFn
from pipelines.demo.simulation import Simulation
from pipelines.demo.writers.claude_code_logs import (
    SessionFiles,
    api_error_line,
    assistant_line,
    summary_line,
    user_line,
)

DAY_MS = 86_400_000


@dataclass(frozen=True)
class _Final:
    """The last streamed line of one Claude Code response, kept so a sidechain can replay it."""

    t: int
    model: str
    msg_id: str
    block: dict[str, Any]
    stop: str
    tokens: list[int]


class ClaudeCode:
    """Claude Code usage of the company's Claude Code users, written through `files`."""

    def __init__(self, sim: Simulation, files: SessionFiles) -> None:
        self.sim = sim
        self.rng = sim.rng
        self.ids = sim.ids
        self.files = files
        self.target: str | None = None  # the engineer whose session carries the malformed line

    def simulate(self, progress: ProgressFn | None = None) -> None:
        """Session logs of Claude Code users; every deduplicated message also lands in usage."""
        company = self.sim.company
        cc_users = [e for e in company.engs if e.cc]
        personal = [e for e in cc_users if e.shared_key is None]
        pool = personal or cc_users
        self.target = self.rng.choice(pool).eid if pool else None
        for n_done, e in enumerate(cc_users, start=1):
            key = e.shared_key or e.anth_key
            assert key is not None
            ws = company.shared_ws[key] if e.shared_key else company.workspaces[e.team]
            for day in company.window.days:
                if self.sim.active(e, day):
                    self._day(e, day, key, ws)
            if self.target == e.eid and not self.files.malformed and n_done < len(cc_users):
                self.target = cc_users[n_done].eid  # no activity: the next user carries it
            if progress is not None:
                progress("claude_code_logs", n_done, len(cc_users))

    def _day(self, e: Engineer, day: date, key: str, ws: str | None) -> None:
        """A Claude Code user's day: one or two sessions, then any further spend on their API key."""
        rng = self.rng
        target = self.sim.day_spend(e, e.anth_daily, day)
        n_sessions = 1 if rng.random() < 0.7 else 2
        starts = sorted(rng.randint(6 * 3600, 19 * 3600) * 1000 for _ in range(n_sessions))
        spent = 0.0
        for start_ms in starts:
            spent += self._session(e, day, key, ws, start_ms, rng.randint(2, 12))
        if e.anth_api_key is not None and target - spent > 0.05:
            self.sim.anth_api_day(e, day, e.anth_api_key, target - spent)
        if e.uses_openai:
            self.sim.oai_day(e, day)

    def _tokens(self, e: Engineer, model: str, ctx: int, fresh: bool, long_ok: bool) -> tuple[list[int], str, int]:
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

    def _session(self, e: Engineer, day: date, key: str, ws: str | None, start_ms: int, max_msgs: int) -> float:
        """Write one session file (and maybe a subagent file); return its approximate list USD."""
        rng, ids = self.rng, self.ids
        repo = rng.choice(e.repos)
        cwd = f"{e.home}/src/{repo}"
        proj_dir = cwd.replace("/", "-").replace(".", "-")
        session = ids.uuid4()
        branch = "main" if rng.random() < 0.5 else f"feat/{rng.choice(REPOS)}-{rng.randint(100, 999)}"
        model = OPUS if rng.random() < e.opus_share else SONNET
        long_ok = model == SONNET and e.long_ctx
        limit = 600_000 if long_ok else 170_000
        prices = {cw: self.sim.prices.floats("anthropic", model, day, cw) for cw in (CW_BASE, CW_LONG)}
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
        want_malformed = self.target == e.eid and not self.files.malformed
        malformed_line: int | None = None
        while n_msgs < max_msgs:
            t += rng.randint(2_000, 90_000)
            if t + 120_000 >= DAY_MS:
                break
            n_msgs += 1
            uid = ids.uuid4()
            if n_msgs == 1:
                content: Any = rng.choice(PROMPTS)
            else:
                content = [{"type": "tool_result", "tool_use_id": f"toolu_01{ids.b62(22)}", "content": "ok"}]
            lines.append(user_line(base, parent, uid, day, t, content))
            parent = uid
            if ctx > limit:
                ctx = rng.randint(15_000, 35_000)
                fresh = True
            tokens, cw, ctx = self._tokens(e, model, ctx, fresh, long_ok)
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
                        "name": rng.choice(TOOLS),
                        "input": {"file_path": f"{repo}/src/main.py"},
                    }
                elif j == 0 and n_lines == 3:
                    block = {"type": "thinking", "thinking": "...", "signature": f"Ep{ids.b62(10)}"}
                else:
                    block = {"type": "text", "text": "Done." if last else "Looking at the code."}
                line = assistant_line(
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
            self._count(e, key, ws, day, model, cw, tokens)
            spent += sum(a * b for a, b in zip(tokens, prices[cw], strict=True)) / 1e6
            if rng.random() < 0.02:
                t += rng.randint(500, 3_000)
                eid_ = ids.uuid4()
                lines.append(api_error_line(base, parent, eid_, day, t, ids.uuid4()))
                parent = eid_
        if not lines:
            return 0.0
        if rng.random() < 0.5:
            lines.append(summary_line(rng.choice(SUMMARIES), parent))
        self.files.session(e.email, proj_dir, session, lines, malformed_line)
        if finals and rng.random() < 0.3:
            spent += self._subagent(e, day, key, ws, base, model, session, proj_dir, finals)
        return spent

    def _subagent(
        self,
        e: Engineer,
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
        t = min(replay.t + rng.randint(1_000, 20_000), DAY_MS - 60_000)
        uid = ids.uuid4()
        replay_req = f"req_011C{ids.b62(19)}"
        lines = [
            assistant_line(
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
            if t >= DAY_MS - 10_000:
                break
            sub_model = HAIKU if rng.random() < 0.6 else model
            tokens, cw, _ = self._tokens(e, sub_model, rng.randint(8_000, 30_000), rng.random() < 0.5, False)
            msg_id = f"msg_01{ids.b62(22)}"
            req_id = f"req_011C{ids.b62(19)}"
            outs = [tokens[4]] if rng.random() < 0.4 else [1, tokens[4]]
            for j, out_tokens in enumerate(outs):
                last = j == len(outs) - 1
                t += rng.randint(200, 2_000)
                uid = ids.uuid4()
                block = {"type": "text", "text": "Found 3 matches." if last else "Searching."}
                lines.append(
                    assistant_line(
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
            self._count(e, key, ws, day, sub_model, cw, tokens)
            prices = self.sim.prices.floats("anthropic", sub_model, day, cw)
            spent += sum(a * b for a, b in zip(tokens, prices, strict=True)) / 1e6
        self.files.subagent(e.email, proj_dir, session, agent, lines)
        return spent

    def _count(
        self, e: Engineer, key: str, ws: str | None, day: date, model: str, cw: str, tokens: Sequence[int]
    ) -> None:
        """Count one response in the usage report (on its key), for its engineer, and for its shared key."""
        usage = self.sim.usage
        usage.add_anth((day, key, ws, model, cw), tokens)
        usage.add_eng_anth(e.eid, day, model, cw, tokens)
        if e.shared_key is not None:
            usage.add_shared(key, e.eid, day, model, cw, tokens)
