"""Writes of the complaints app; import from here.

- ``intake``: ``complaint_create`` (deadlines, links, flags, escalation risk).
- ``transition``: ``complaint_transition``, the only status change.
- ``records``: trace (suggest, confirm), accountability, remedy list and contact outcomes,
  process defects.
- ``deadlines``: the beat's warning / breach marks.
"""

from .deadlines import complaint_deadline_check
from .intake import (
    complaint_create,
    complaint_deadlines,
    complaint_link_and_flag,
    complaint_register,
    risk_of,
)
from .records import (
    complaint_accountability_set,
    complaint_remedy_list_save,
    complaint_trace_confirm,
    complaint_trace_suggest,
    process_defect_create,
    process_defect_update,
    remedy_contact_record,
)
from .transition import close_blockers, complaint_transition

__all__ = [
    "close_blockers",
    "complaint_accountability_set",
    "complaint_create",
    "complaint_deadline_check",
    "complaint_deadlines",
    "complaint_link_and_flag",
    "complaint_register",
    "complaint_remedy_list_save",
    "complaint_trace_confirm",
    "complaint_trace_suggest",
    "complaint_transition",
    "process_defect_create",
    "process_defect_update",
    "remedy_contact_record",
    "risk_of",
]
