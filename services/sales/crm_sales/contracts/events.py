"""The domain events contracts cause: ids, dates and days only, never the
title or the reasons (they may name people)."""

from __future__ import annotations

import datetime as dt

from crm.events.v1 import events_pb2 as pb
from crm_kit.events import envelope as ev

from crm_sales.contracts.model import Contract
from crm_sales.wire import date_pb

PRODUCER = "sales"


def expiring(c: Contract, today: dt.date) -> ev.Envelope:
    return ev.new_event(ev.CONTRACT_EXPIRING, c.id, pb.ContractExpiring(
        contract_id=c.id, customer_id=c.customer_id, owner_id=c.owner_id, end_date=date_pb(c.end),
        days_left=(c.end - today).days, renewal_opportunity_id=c.renewal_opportunity_id), PRODUCER)


# Live contracts follow their customer's owner (crm_sales.owner_changes), in their own group.
OWNER_CHANGE_GROUP = "sales-contracts"
