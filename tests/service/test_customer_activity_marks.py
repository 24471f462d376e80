"""What the activity marks save, counted on the store: the card's overview
of a customer with neither an interaction nor a listed visit reads the
mark, not the interaction log's head nor the visit list, once the process
has run its backfill; before that, and for a customer with a mark, it reads
both. The customer service's own wiring (build), on the test FerretDB."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from pymongo import MongoClient, monitoring

from crm_customer.bootstrap import build
from crm_customer.customers.model.editing import build_draft
from crm_customer.interactions.model import InteractionDraft
from crm_customer.overview.service import OverviewService
from crm_customer.settings import CustomerSettings
from crm_customer.visits.model import VisitDraft
from crm_kit.auth import Principal
from crm_kit.mongo import MongoSettings
from tests.conftest import server_settings

REP = Principal("rep-marks", "rep", "team-marks")
SKIPPED = {"interaction_heads", "visit_customers"}  # the log's head, the customer's visit list


class Finds(monitoring.CommandListener):
    def __init__(self):
        self.collections: list[str] = []

    def started(self, event):
        if event.command_name == "find":
            self.collections.append(event.command["find"])

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


def test_a_card_of_a_customer_with_no_activity_reads_the_mark_not_the_log_nor_the_list(stores):
    finds = Finds()
    client = MongoClient(stores.mongodb_uri, event_listeners=[finds], tz_aware=True)
    name = f"crm_customer_marks_{uuid.uuid4().hex[:8]}"
    try:
        app = build(CustomerSettings(server_settings("customer"), MongoSettings(stores.mongodb_uri, name), "CN"),
                    db=client[name])
        overview = OverviewService(app.customers, app.interactions, app.visits, app.activity)
        made = [app.customers.create(REP, build_draft(
            {"display_name": n, "phones": [f"+86139{uuid.uuid4().int % 10**8:08d}"]}, "", "CN")) for n in ("魏华", "韩梅梅")]
        bare, talked = made
        app.interactions.record(REP, talked.id, InteractionDraft(channel="call", direction="inbound",
                                                                 summary="asked the price"))

        def card_reads(customer_id: str) -> list[str]:
            finds.collections.clear()
            overview.overview(REP, customer_id=customer_id, interactions=True, recent=5, open_visits=True,
                              visits_limit=5)
            return list(finds.collections)

        assert SKIPPED <= set(card_reads(bare.id))  # no backfill run yet: a missing mark is not trusted
        [backfill] = [job for job in app.jobs if getattr(job, "name", "") == "customer_activity_backfill"]
        backfill.run()
        assert not SKIPPED & set(card_reads(bare.id)) and "customer_activity" in card_reads(bare.id)
        assert SKIPPED <= set(card_reads(talked.id))  # marked: both are read
        app.visits.schedule(REP, VisitDraft(customer_id=bare.id, scheduled_at=datetime.now(timezone.utc)
                                            + timedelta(days=2), purpose="measure the room"))
        assert SKIPPED <= set(card_reads(bare.id))  # its first visit marked it
    finally:
        client.drop_database(name)
        client.close()
