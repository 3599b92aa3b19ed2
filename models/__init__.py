"""SQLAlchemy models. They describe rows; they know nothing of services or Telegram."""

from models.base import Base
from models.case import Case, CaseEvent, Evidence, Perpetrator, Victim, VictimPerpetrator
from models.draft import Draft
from models.key_canary import KeyCanary
from models.onboarding import (
    EnrolmentEvent,
    EnrolmentRequest,
    GroupMember,
    GroupRequest,
    Invitation,
)
from models.outbox import OutboxMessage
from models.phone import ReporterPin, SealedMessage
from models.region import Region, RegionAlias
from models.relay import PendingInput, RelayMessage
from models.reporter import Reporter
from models.responder import Alert, Responder
from models.service import (
    CaseServiceRecord,
    DeadlineAlarm,
    FollowUp,
    Provider,
    ServiceInput,
)
from models.update import HeldUpdate, ProcessedUpdate

__all__ = [
    "Alert",
    "Base",
    "Case",
    "CaseEvent",
    "CaseServiceRecord",
    "DeadlineAlarm",
    "Draft",
    "EnrolmentEvent",
    "EnrolmentRequest",
    "Evidence",
    "FollowUp",
    "GroupMember",
    "GroupRequest",
    "HeldUpdate",
    "Invitation",
    "KeyCanary",
    "OutboxMessage",
    "PendingInput",
    "Perpetrator",
    "ProcessedUpdate",
    "Provider",
    "Region",
    "RegionAlias",
    "RelayMessage",
    "Reporter",
    "ReporterPin",
    "Responder",
    "SealedMessage",
    "ServiceInput",
    "Victim",
    "VictimPerpetrator",
]
