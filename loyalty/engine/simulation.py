"""A draft program on the most recent real events, beside the published one: what each rule
would give, in aggregate (no member's own figures leave this module).

Each event is evaluated with the member's tier and points as they were at the event, and with
the consents and profile values the member holds now: a withdrawn consent or a deleted datum
is not used, and events of deleted members are left out. Caps, limits, budgets and the history
functions count the simulated events only (as `loyalty rules simulate` counts its file).
"""

import json
from dataclasses import asdict, dataclass
from typing import Any

from sqlmodel import Session

import rules
from loyalty.consent import service as consent_service
from loyalty.engine import repository
from loyalty.profiling import service as profiling_service
from loyalty.program.service import Published
from rules.memory import MemoryHistory

MAX_EVENTS = 5000


def simulate_recent(
    session: Session, *, draft: rules.Program, published: Published | None, events: int
) -> dict[str, Any]:
    """{"events", "members", "first_at", "last_at", "draft", "published", "difference"}."""
    rows = list(reversed(repository.recent_events(session, limit=events)))
    member_ids = sorted({int(row.member_id) for row in rows})
    consents = consent_service.active_purposes_of(session, member_ids=member_ids)
    programs = [draft] + ([published.program] if published is not None else [])
    fields = set().union(*(program.read_fields for program in programs))
    profiles = profiling_service.values_of_members(session, member_ids=member_ids, fields=fields)
    samples = [_sample(row, consents, profiles) for row in rows]
    tallies = [_tally(program, samples) for program in programs]
    answer: dict[str, Any] = {
        "events": len(samples),
        "members": len(member_ids),
        "first_at": samples[0]["at"] if samples else None,
        "last_at": samples[-1]["at"] if samples else None,
        "draft": tallies[0],
        "published": {"version": published.version, **tallies[1]} if published is not None else None,
    }
    before = tallies[1] if published is not None else {"points": 0, "rewards": 0}
    answer["difference"] = {key: tallies[0][key] - before[key] for key in ("points", "rewards")}
    return answer


def _sample(row: Any, consents: dict[int, set[str]], profiles: dict[int, dict[str, Any]]) -> dict[str, Any]:
    stored = json.loads(row.data or "{}")
    was = stored.get("member") or {}
    member_id = int(row.member_id)
    member = {
        "id": str(member_id),
        "tier": was.get("tier"),
        "points": int(was.get("points") or 0),
        "joined_at": was.get("joined_at") or row.joined_at.date().isoformat(),
        "consents": sorted(consents.get(member_id, set())),
        "profile": profiles.get(member_id, {}),
    }
    return {"id": f"event-{row.id}", "type": row.event_type, "at": row.occurred_at, "member": member,
            row.event_type: stored.get("payload") or {}}  # fmt: skip


@dataclass
class _RuleTally:
    rule: str
    fired: int = 0
    points: int = 0
    rewards: int = 0


def _tally(program: rules.Program, samples: list[dict[str, Any]]) -> dict[str, Any]:
    history = MemoryHistory(program.tz)
    tallies = {info.name: _RuleTally(info.name) for info in program.rules}
    for sample in samples:
        profile = sample["member"]["profile"]
        own = {field: value for field, value in profile.items() if field in program.read_fields}
        event = {**sample, "member": {**sample["member"], "profile": own}}  # the fields it declares only
        for effect in program.evaluate(event, history).effects:
            tally = tallies[effect.rule]
            tally.fired += 1
            tally.points += int(effect.points)
            tally.rewards += 1 if effect.reward else 0
    return {
        "points": sum(t.points for t in tallies.values()),
        "rewards": sum(t.rewards for t in tallies.values()),
        "rules": [asdict(t) for t in tallies.values()],
    }
