"""The hash chain: each event's hash covers its canonical content and the previous hash.

Scope: one chain per member. Members are the unit the schema is distributed by (Citus), so a
per-member chain needs no global lock or cross-shard ordering, a DPO can prove one member's
history on its own, and erasing a member does not break anybody else's proof. A table of chain
heads (last seq and hash per member) makes a removed tail visible too.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from loyalty.consent.models import ConsentChainHead, ConsentEvent

GENESIS = "0" * 64


def canonical(event: ConsentEvent) -> str:
    content: dict[str, Any] = {
        "member_id": event.member_id,
        "seq": event.seq,
        "purpose": event.purpose,
        "channel": event.channel,
        "action": event.action,
        "method": event.method,
        "source": event.source,
        "state": event.state,
        "notice_version": event.notice_version,
        "actor": event.actor,
        "occurred_at": event.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "user_agent": event.user_agent,
        "ip_prefix": event.ip_prefix,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def compute_hash(event: ConsentEvent) -> str:
    return hashlib.sha256(canonical(event).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Break:
    """The first place where the stored chain differs from what was written."""

    member_id: int
    event_id: int | None
    seq: int | None
    reason: str

    def __str__(self) -> str:
        where = f"event {self.event_id} (member {self.member_id}, seq {self.seq})"
        if self.event_id is None:
            where = f"member {self.member_id}'s chain head"
        return f"{where}: {self.reason}"


class ChainChecker:
    """Feed events ordered by (member_id, id); then the heads. Stops at the first break."""

    def __init__(self) -> None:
        self.member_id: int | None = None
        self.seq = 0
        self.last_hash = GENESIS
        self.last_ids: dict[int, tuple[int, str]] = {}  # member -> (seq, hash) at its end
        self.checked = 0

    def feed(self, event: ConsentEvent) -> Break | None:
        if event.member_id != self.member_id:
            if self.member_id is not None:
                self.last_ids[self.member_id] = (self.seq, self.last_hash)
            self.member_id, self.seq, self.last_hash = event.member_id, 0, GENESIS
        self.checked += 1
        problem = None
        if event.seq != self.seq + 1:
            problem = f"expected seq {self.seq + 1}, found {event.seq} (an event was removed or reordered)"
        elif event.prev_hash != self.last_hash:
            problem = "its previous hash does not match the event before it (removed or reordered)"
        elif compute_hash(event) != event.hash:
            problem = "its content does not match its hash (the row was changed)"
        if problem:
            return Break(event.member_id, event.id, event.seq, problem)
        self.seq, self.last_hash = event.seq, event.hash
        return None

    def finish(self, heads: list[ConsentChainHead]) -> Break | None:
        if self.member_id is not None:
            self.last_ids[self.member_id] = (self.seq, self.last_hash)
        seen = set()
        for head in heads:
            seen.add(head.member_id)
            seq, last_hash = self.last_ids.get(head.member_id, (0, GENESIS))
            if (seq, last_hash) != (head.seq, head.hash):
                return Break(head.member_id, None, head.seq, f"the head names seq {head.seq} but the chain "
                             f"ends at seq {seq} (events at the end were removed or changed)")
        for member_id in sorted(set(self.last_ids) - seen):
            return Break(member_id, None, None, "events exist but the chain head is missing")
        return None
