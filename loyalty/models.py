"""Imports every table so that SQLModel.metadata (migrations, create_all) knows them all."""

from sqlmodel import SQLModel

from loyalty.audiences.models import Audience, ContactRecord  # noqa: F401
from loyalty.audit.models import AuditEntry  # noqa: F401
from loyalty.cards.models import UsedQrToken  # noqa: F401
from loyalty.consent.models import ConsentChainHead, ConsentEvent, ConsentState  # noqa: F401
from loyalty.engine.models import MemberEvent, RuleAward, RuleBudget  # noqa: F401
from loyalty.idempotency.models import IdempotencyRecord  # noqa: F401
from loyalty.ledger.models import LedgerEntry, MemberBalance  # noqa: F401
from loyalty.members.models import Member
from loyalty.outbox.models import OutboxMessage
from loyalty.pos.models import PosReceipt  # noqa: F401
from loyalty.profiling.models import ProfileDecline, ProfileValue  # noqa: F401
from loyalty.program.models import ProgramVersion, PurposeNotice  # noqa: F401
from loyalty.rewards.models import Reward, Voucher  # noqa: F401
from loyalty.staff.models import Staff

metadata = SQLModel.metadata

__all__ = ["Member", "OutboxMessage", "Staff", "metadata"]
