"""The domain events a customer change causes: pure, from the states before
and after. Events carry ids and the names of what changed, never personal
data (crm.events.v1): a consumer asks the customer service for the rest,
under its rules, so an erasure never has to chase stream entries."""

from __future__ import annotations

from crm.events.v1 import events_pb2 as pb
from crm_kit.events import envelope as ev

from crm_customer.customers.model.record import PROFILE_FIELDS, Customer

PRODUCER = "customer"
_CONSENT_CHANNELS = (("sms", "consent_sms"), ("email", "consent_email"))


def _event(type_: str, customer_id: str, payload) -> ev.Envelope:
    return ev.new_event(type_, customer_id, payload, PRODUCER)


def created(c: Customer) -> list[ev.Envelope]:
    p = c.profile
    events = [_event(ev.CUSTOMER_CREATED, c.id, pb.CustomerCreated(
        customer_id=c.id, owner_id=c.owner_id, team_id=c.team_id, kind=p.kind, type=p.type, stage=p.stage,
        referred_by=p.referred_by))]
    if p.referred_by:
        events.append(referral_linked(p.referred_by, c.id))
    return events


def referral_linked(referrer_id: str, referred_id: str) -> ev.Envelope:
    return _event(ev.REFERRAL_LINKED, referred_id, pb.ReferralLinked(referrer_id=referrer_id, referred_id=referred_id))


def changed(before: Customer, after: Customer, action: str = "", changed_by: str = "") -> list[ev.Envelope]:
    """Events for one write: fields users see, consent per channel, a new
    referrer, a new owner (`action` names how: claim, transfer, …). A write
    that changes nothing users see (a last-contact touch) causes none."""
    events: list[ev.Envelope] = []
    fields = [name for name in PROFILE_FIELDS if getattr(before.profile, name) != getattr(after.profile, name)]
    if fields:
        events.append(_event(ev.CUSTOMER_UPDATED, after.id, pb.CustomerUpdated(
            customer_id=after.id, version=after.version, changed_fields=fields)))
    for channel, name in _CONSENT_CHANNELS:
        if getattr(before.profile, name).state != getattr(after.profile, name).state:
            events.append(_event(ev.CUSTOMER_CONSENT_CHANGED, after.id, pb.CustomerConsentChanged(
                customer_id=after.id, channel=channel, state=getattr(after.profile, name).state)))
    if after.profile.referred_by and after.profile.referred_by != before.profile.referred_by:
        events.append(referral_linked(after.profile.referred_by, after.id))
    if (before.owner_id, before.team_id) != (after.owner_id, after.team_id):
        events.append(_event(ev.CUSTOMER_OWNER_CHANGED, after.id, pb.CustomerOwnerChanged(
            customer_id=after.id, from_owner_id=before.owner_id, to_owner_id=after.owner_id,
            to_team_id=after.team_id, action=action or "update", changed_by=changed_by)))
    return events


def erased(customer_id: str) -> list[ev.Envelope]:
    return [_event(ev.CUSTOMER_ERASED, customer_id, pb.CustomerErased(customer_id=customer_id))]


# --- the value grade sales gives a customer ------------------------------------------

VALUE_GRADE_GROUP = "customer-value-grades"


def value_grade_follower(events_redis, customers, consumer_name: str):
    """customer.value_grade_changed (stream events:sales, group
    "customer-value-grades") kept on the customer record as the system
    (CustomerService.set_value_grade: idempotent by grading run, an older run
    never overwrites a newer one), so a redelivery is harmless; the entry is
    acked only after the write."""
    from crm_kit.events.bus import stream_for
    from crm_kit.events.consumer import EventConsumer

    def handle(envelope) -> None:
        if envelope.type != ev.CUSTOMER_VALUE_GRADE_CHANGED:
            return
        p = ev.payload_of(envelope)
        customers.set_value_grade(p.customer_id, p.to_grade, p.graded_year, p.run_id)

    return EventConsumer(events_redis, VALUE_GRADE_GROUP, consumer_name, [stream_for("sales")], handle)
