"""The event a value grade change causes (ids and grade codes only)."""

from __future__ import annotations

from crm.events.v1 import events_pb2 as pb
from crm_kit.events import envelope as ev

PRODUCER = "sales"


def value_grade_changed(customer_id: str, from_grade: str, to_grade: str, graded_year: int,
                        run_id: str) -> ev.Envelope:
    payload = pb.CustomerValueGradeChanged(customer_id=customer_id, from_grade=from_grade, to_grade=to_grade,
                                           graded_year=graded_year, run_id=run_id)
    return ev.new_event(ev.CUSTOMER_VALUE_GRADE_CHANGED, customer_id, payload, PRODUCER)
