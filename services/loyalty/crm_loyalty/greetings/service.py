"""Use cases of the care plans: the daily run, templates, the delivery log.

The run, for one day: the customer service streams every live customer's
contact, consent and dates a page at a time (one pass over its store, not a
call per customer), and each page is greeted moments after it is read. Of a
page, the customers with an account (L1's accounts) are the run's; a
pipelined read skips those whose greetings of that day are all decided
already (a repeated run costs one Redis round per page); the others go to a
pool of workers, each of which claims each occasion of the day (one claim per customer x
occasion x occurrence year, store.py), sends by the first channel with
consent granted now, and records the outcome with its log entry. Two
replicas or a restarted run meet the same claims: nothing is sent twice.
E-mail has no idempotency key, so a run that dies between the SMTP answer
and the claim's outcome leaves a queued claim that another run retries
after its lease (LOYALTY_GREETING_LEASE_SECONDS): the one window where an
e-mail could go twice; SMS carries the message id as Idempotency-Key.

Each run keeps a record in Redis (store.save_run), rewritten after every
batch: its counts so far and `updated_at`, its sign of life. An admin's run
goes on in a thread of its own (RunGreetings answers at once; GetGreetingRun
reads the record); the daily job and tests wait for theirs. A run that stops
early says why (`stopped_reason`, with `finished_at` set), an unexpected
error included. A run whose process died keeps `finished_at` unset and its
`updated_at` stops moving; nothing takes it over, and nothing needs to: a new
run is safe (the claims) and does what is left.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timezone
from typing import Protocol

from prometheus_client import Counter

from crm_kit.auth import Principal
from crm_kit.clock import local_date
from crm_kit.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound, PermissionDenied, \
    PreconditionViolation, Unavailable

from crm_loyalty.greetings import model
from crm_loyalty.greetings.channels import OutgoingMessage
from crm_loyalty.greetings.contacts import CustomerContacts
from crm_loyalty.greetings.model import (BIRTHDAY, BUILT_IN_OCCASIONS, FAILED, LANGUAGES, RUN_ID, SENT, SKIPPED,
                                         STOPPED_CUSTOMER_SERVICE, STOPPED_ERROR, STOPPED_SENDING_HOURS, Contact,
                                         Occurrence, RunSummary, Template)
from crm_loyalty.greetings.settings import GreetingSettings
from crm_loyalty.greetings.store import Delivery, GreetingStore

log = logging.getLogger("crm.loyalty.greetings")

GREETINGS = Counter("crm_loyalty_greetings_total", "Greetings decided, by occasion, channel and outcome "
                    "(channel none: skipped before one was chosen).", ["occasion", "channel", "outcome"])

PROGRESS_EVERY = 5000
MAX_PAGE = 100
SYSTEM = "system:greetings"  # who starts the scheduled daily run


class Channel(Protocol):
    name: str

    def send(self, message: OutgoingMessage) -> str | None: ...


class Accounts(Protocol):
    def award(self, customer_id: str, points: int, *, kind: str, request_id: str, reason: str = "") -> bool: ...


def _now() -> datetime:
    return datetime.now(timezone.utc)


class GreetingService:
    def __init__(self, store: GreetingStore, contacts: CustomerContacts, channels: dict[str, Channel],
                 settings: GreetingSettings, with_account: Callable[[list[str]], Collection[str]], *,
                 accounts: Accounts | None = None, tier_of: Callable[[str], str] | None = None,
                 birthday_gift_points: Callable[[str], int] | None = None, clock: Callable[[], datetime] = _now):
        self.store, self.contacts, self.channels, self.settings = store, contacts, channels, settings
        self.with_account = with_account  # which of these customers have a loyalty account: the run's customers
        self.accounts, self.tier_of, self.gift_points = accounts, tier_of, birthday_gift_points
        self.clock = clock

    @property
    def occasions(self) -> tuple[str, ...]:
        return (*BUILT_IN_OCCASIONS, *self.settings.solar_holidays)

    def today(self) -> date:
        return local_date(self.clock(), self.settings.zone)

    # -- the run -----------------------------------------------------------------------

    def run(self, on_date: date | None = None, *, started_by: str = SYSTEM,
            stop_when: Callable[[], bool] = lambda: False, wait: bool = True) -> RunSummary:
        """Greets everybody due on `on_date` (today when None), as a recorded
        run. `stop_when` is asked before each page it greets (the end of the sending
        hours; what is left is retried by a later run that day). With `wait`
        (the daily job, tests) it answers when the run has ended; without, at
        once with the run started, which goes on in a thread of its own."""
        day = on_date or self.today()
        now = self.clock()
        summary = RunSummary(day, run_id=model.new_run_id(day, now), started_by=started_by, started_at=now,
                             updated_at=now)
        self.store.save_run(summary)
        if wait:
            return self._run(summary, stop_when)
        started = summary.copy()
        threading.Thread(target=self._run_logged, args=(summary, stop_when), name="greetings-run",
                         daemon=True).start()
        return started

    def _run_logged(self, summary: RunSummary, stop_when: Callable[[], bool]) -> None:
        try:
            self._run(summary, stop_when)
        except Exception:  # noqa: BLE001 - recorded in the run (stopped_reason) by _run; nobody else to tell
            log.exception("greetings run failed", extra={"fields": self._fields(summary)})

    def _run(self, summary: RunSummary, stop_when: Callable[[], bool]) -> RunSummary:
        """Runs to the end and records it, also when it stops on an error."""
        try:
            reason = self._greet_everyone(summary, stop_when)
        except Exception:
            summary.stopped_reason = STOPPED_ERROR
            try:
                self._record(summary, finished=True)
            except Exception:  # noqa: BLE001 - Redis itself failing: the record stays unfinished
                log.exception("greetings run: its end could not be recorded", extra={"fields": self._fields(summary)})
            raise
        summary.stopped_reason = reason
        self._record(summary, finished=True)
        log.info("greetings run finished", extra={"fields": self._fields(summary)})
        return summary.copy()

    def _record(self, summary: RunSummary, *, finished: bool = False) -> None:
        summary.updated_at = self.clock()
        if finished:
            summary.finished_at = summary.updated_at
        self.store.save_run(summary.copy())

    def _greet_everyone(self, summary: RunSummary, stop_when: Callable[[], bool]) -> str:
        """Every page of customers in turn, the record rewritten after each;
        the STOPPED_* reason when it stops early, else ""."""
        day = summary.on_date
        holidays = model.holidays_on(day, self.settings.solar_holidays)
        templates = self._templates()
        owner = summary.run_id  # the claims' holder
        log.info("greetings run started", extra={"fields": {**self._fields(summary),
                                                             "holidays": [h.code for h in holidays]}})
        next_progress = PROGRESS_EVERY
        pages = self.contacts.everyone()
        with ThreadPoolExecutor(self.settings.workers, thread_name_prefix="greetings") as pool:
            while True:
                try:
                    page = next(pages, None)
                except Unavailable:
                    summary.add(errors=1)
                    log.warning("greetings run stopped: the customer service does not answer",
                                extra={"fields": self._fields(summary)})
                    return STOPPED_CUSTOMER_SERVICE
                if page is None:
                    return ""
                theirs = self.with_account([c.customer_id for c in page])
                contacts = [c for c in page if c.customer_id in theirs]
                if not contacts:
                    continue
                if stop_when():
                    log.warning("greetings run stopped outside sending hours", extra={"fields": self._fields(summary)})
                    return STOPPED_SENDING_HOURS
                done = self.store.done_on([c.customer_id for c in contacts], day)
                summary.add(customers=len(contacts), already_done=len(done))
                todo = [c for c in contacts if c.customer_id not in done]
                settled = list(pool.map(lambda c: self._greet(c, day, holidays, templates, owner, summary), todo))
                self.store.mark_done([c.customer_id for c, ok in zip(todo, settled) if ok], day)
                self._record(summary)
                if summary.customers >= next_progress:
                    next_progress += PROGRESS_EVERY
                    log.info("greetings run progress", extra={"fields": self._fields(summary)})

    @staticmethod
    def _fields(s: RunSummary) -> dict:
        """Ids, the day and counts: never a customer's data."""
        return {"run_id": s.run_id, "day": s.on_date.isoformat(), "started_by": s.started_by,
                "customers": s.customers, "sent": s.sent, "failed": s.failed, "skipped": s.skipped,
                "already_done": s.already_done, "errors": s.errors, "stopped_reason": s.stopped_reason}

    def _greet(self, contact: Contact, day: date, holidays: list[Occurrence],
               templates: dict[tuple[str, str], Template], owner: str, summary: RunSummary) -> bool:
        """True when every greeting of the day is decided for this customer."""
        try:
            occurrences = holidays + model.personal_occasions_on(day, contact.birthday, list(contact.anniversaries))
            return all([self._greet_once(contact, occ, templates, owner, summary) for occ in occurrences])
        except Exception:  # noqa: BLE001 - one customer's trouble never stops the run; the next run retries
            summary.add(errors=1)
            log.exception("greeting failed", extra={"fields": {"customer_id": contact.customer_id}})
            return False

    def _greet_once(self, contact: Contact, occ: Occurrence, templates: dict[tuple[str, str], Template],
                    owner: str, summary: RunSummary) -> bool:
        """Claims, sends and records one greeting; True when it is decided for
        good (sent, skipped, or out of attempts)."""
        verdict, claim = self.store.claim(contact.customer_id, occ.claim_field, owner, self.clock())
        if claim is None:
            if verdict == "done":
                summary.add(already_done=1)
            return verdict == "done"
        try:
            tier = self.tier_of(contact.customer_id) if self.tier_of else ""
            if occ.kind == BIRTHDAY and self.accounts is not None and self.gift_points is not None:
                points = self.gift_points(tier)
                if points > 0:  # once per claim: the claim id is the award's request id
                    self.accounts.award(contact.customer_id, points, kind="care_gift", request_id=claim.claim_id,
                                        reason="birthday gift")
            channel_name, address = model.choose_channel(contact, self.settings.channels)
            if channel_name is None:
                outcome, channel_label, reason = SKIPPED, "", address
            else:
                language = model.language_for(contact.name, self.settings.default_language)
                template = templates.get((occ.kind, language)) or model.default_template(occ.kind, language)
                subject = template.subject or model.default_template(occ.kind, language).subject
                message = OutgoingMessage(claim.message_id, address,
                                          model.render(subject, name=contact.name, tier=tier),
                                          model.render(template.body, name=contact.name, tier=tier))
                reason = self.channels[channel_name].send(message) or ""
                outcome, channel_label = (FAILED if reason else SENT), channel_name
        except BaseException:
            self.store.release(claim)
            raise
        self.store.finish(claim, outcome, channel_label, reason, self.clock())
        GREETINGS.labels(occ.kind, channel_label or "none", outcome).inc()
        summary.add(**{outcome: 1})
        return outcome != FAILED or claim.attempts >= self.settings.max_attempts

    # -- templates ------------------------------------------------------------------------

    def _templates(self) -> dict[tuple[str, str], Template]:
        return {key: t for key, (t, _time) in self.store.templates().items()}

    def list_templates(self, principal: Principal) -> list[tuple[Template, datetime | None]]:
        _require_admin(principal, "list greeting templates")
        custom = self.store.templates()
        return [custom.get((occ, lang)) or (model.default_template(occ, lang), None)
                for occ in self.occasions for lang in LANGUAGES]

    def update_template(self, principal: Principal, occasion: str, language: str, subject: str,
                        body: str) -> tuple[Template, datetime]:
        _require_admin(principal, "change greeting templates")
        template = model.validated_template(occasion, language, subject, body, self.occasions)
        now = self.clock()
        self.store.put_template(template, now)
        return template, now

    def reset_template(self, principal: Principal, occasion: str, language: str) -> Template:
        _require_admin(principal, "change greeting templates")
        if occasion not in self.occasions:
            raise InvalidArgument(FieldViolation("occasion", f"must be one of {', '.join(self.occasions)}"))
        if language not in LANGUAGES:
            raise InvalidArgument(FieldViolation("language", "must be zh or en"))
        self.store.drop_template(occasion, language)
        return model.default_template(occasion, language)

    def outside_sending_hours(self) -> bool:
        return not self.settings.within_sending_hours(self.clock().astimezone(self.settings.zone).time())

    def run_as_admin(self, principal: Principal, on_date: date | None) -> RunSummary:
        """An admin's run, started: it goes on in a thread of its own. A run now
        (`on_date` unset) keeps to the sending hours: refused outside them,
        stopped when they end; a run as of a given day sets the clock to that
        day's greeting time (tests, catching up a missed day) and runs
        whatever the hour."""
        _require_admin(principal, "run greetings")
        if on_date is None and self.outside_sending_hours():
            start, end = self.settings.sending_hours
            raise FailedPrecondition([PreconditionViolation(
                "SENDING_HOURS", "greetings", f"greetings go out between {start:%H:%M} and {end:%H:%M} local time")],
                "outside the sending hours; name a day (on_date) to run as of it")
        return self.run(on_date, started_by=principal.subject, wait=False,
                        stop_when=self.outside_sending_hours if on_date is None else lambda: False)

    def get_run(self, principal: Principal, run_id: str) -> RunSummary:
        _require_admin(principal, "read greeting runs")
        if not isinstance(run_id, str) or not RUN_ID.fullmatch(run_id):
            raise InvalidArgument(FieldViolation("run_id", "must be a greeting run's id"))
        found = self.store.get_run(run_id)
        if found is None:
            raise NotFound("greeting run", run_id)
        return found

    # -- the delivery log ------------------------------------------------------------------------

    def deliveries(self, principal: Principal, customer_id: str, page_size: int) -> list[Delivery]:
        """A customer's delivery log, for whoever may see the customer (asked
        of the customer service with the caller's token)."""
        if principal.role == "integration" and "loyalty:read" not in principal.scopes:
            raise PermissionDenied("token lacks the loyalty:read scope")
        if not 0 <= page_size <= MAX_PAGE:
            raise InvalidArgument(FieldViolation("page_size", f"must be between 0 and {MAX_PAGE}"))
        self.contacts.require_visible(customer_id)
        return self.store.deliveries(customer_id, page_size or 20)

    def last_greeting(self, customer_id: str) -> Delivery | None:
        """For the 360 card (its caller checks rights)."""
        found = self.store.deliveries(customer_id, 1)
        return found[0] if found else None

    def erase_customer(self, customer_id: str) -> None:
        self.store.erase(customer_id)


def _require_admin(principal: Principal, action: str) -> None:
    if principal.role != "admin":
        raise PermissionDenied(f"only admins may {action}")


class DailySchedule:
    """The scheduled run (a PeriodicJob ticks it): once the local time passes
    LOYALTY_GREETING_TIME, within the sending hours, today's run starts
    unless it completed already. A short Redis lock keeps replicas from
    doing the same work at once; the claims keep them from sending twice
    even when they do."""

    LOCK_SECONDS = 900
    RETRY_SECONDS = 900

    def __init__(self, service: GreetingService, redis_client):
        self.service, self.redis = service, redis_client

    def tick(self) -> str:
        settings = self.service.settings
        local = self.service.clock().astimezone(settings.zone)
        if local.time() < settings.greeting_time or not settings.within_sending_hours(local.time()):
            return "not due"
        day = local.date()
        completed = f"loyalty:greetings:completed:{day.isoformat()}"
        retry_after = f"loyalty:greetings:retry_after:{day.isoformat()}"
        if self.redis.exists(completed) or self.redis.exists(retry_after):
            return "done today" if self.redis.exists(completed) else "retry later"
        lock, token = "loyalty:greetings:running", secrets.token_hex(8)
        if not self.redis.set(lock, token, nx=True, ex=self.LOCK_SECONDS):
            return "running elsewhere"
        try:
            def outside_hours() -> bool:
                self.redis.expire(lock, self.LOCK_SECONDS)  # still alive: keep the lock
                return self.service.outside_sending_hours()

            summary = self.service.run(day, stop_when=outside_hours, wait=True)
            if summary.failed or summary.errors or summary.stopped_reason:
                # Failed sends are retried by a later run of the same day (the occasion is today's).
                self.redis.set(retry_after, "1", ex=self.RETRY_SECONDS)
            else:
                self.redis.set(completed, "1", ex=7 * 86400)
            stopped = f" (stopped: {summary.stopped_reason})" if summary.stopped_reason else ""
            return f"sent {summary.sent}, failed {summary.failed}, skipped {summary.skipped}{stopped}"
        finally:
            if self.redis.get(lock) == token.encode():
                self.redis.delete(lock)
