"""Import every model so that db.metadata (and Alembic) sees the whole schema."""

from server.alerts.models import AlertJob
from server.attachments.models import CardPhoto
from server.attendees.models import Attendee, AttendeeImport
from server.auth.models import ApiToken
from server.crm.models import CrmConnection, CrmRecord
from server.devices.models import Device, PairingCode
from server.events.models import Event, EventMember, RubricVersion
from server.leads.models import Activity, Lead
from server.privacy.models import (
    AuditEntry,
    ConsentRecord,
    ConsentText,
    Erasure,
    EventRetention,
    LeadTombstone,
    Recapture,
)
from server.sync.models import MutationReceipt
from server.users.models import User
from server.versioning import Counter

__all__ = [
    "Activity",
    "AlertJob",
    "ApiToken",
    "Attendee",
    "AttendeeImport",
    "AuditEntry",
    "CardPhoto",
    "ConsentRecord",
    "ConsentText",
    "Erasure",
    "EventRetention",
    "LeadTombstone",
    "Recapture",
    "Counter",
    "CrmConnection",
    "CrmRecord",
    "Device",
    "Event",
    "EventMember",
    "Lead",
    "MutationReceipt",
    "PairingCode",
    "RubricVersion",
    "User",
]
