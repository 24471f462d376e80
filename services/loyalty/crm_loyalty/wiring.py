"""The loyalty core's wiring (accounts, tiers, rewards, referrals), called by
the composition root; kept apart so the root stays one block per feature."""

from __future__ import annotations

from crm.loyalty.v1 import loyalty_service_pb2_grpc
from crm_kit.customer_directory import CustomerDirectory, CustomerGrants
from crm_kit.events.redis_outbox import RedisListOutbox
from crm_kit.jobs import PeriodicJob

from crm_loyalty.accounts import events as account_events
from crm_loyalty.accounts.service import AccountService
from crm_loyalty.accounts.store import AccountScripts, Ladder, outbox_key
from crm_loyalty.referrals import events as referral_events
from crm_loyalty.referrals.service import ReferralService
from crm_loyalty.rewards.service import RewardService
from crm_loyalty.rewards.store import RewardScripts
from crm_loyalty.servicer import LoyaltyServicer
from crm_loyalty.tiers import model as tier_model
from crm_loyalty.tiers.service import PRODUCER, TierService, tier_changed_envelope


def wire_core(app, customers=None) -> None:
    settings = app.settings
    ladder = settings.tiers
    customers = customers or CustomerDirectory.connect(settings.customer_target,
                                                       CustomerGrants.of(settings.server.auth))
    # tier.changed: staged in the account's outbox list by the script that changes the tier
    outbox = RedisListOutbox(app.redis, app.events, PRODUCER, "loyalty:{*}:outbox", tier_changed_envelope)
    app.features["tier_outbox"] = outbox
    app.jobs.append(PeriodicJob("loyalty_outbox_sweep", settings.outbox_sweep_seconds, outbox.sweep))
    # accounts: the points ledger (awards, adjustments, clawbacks, expiry)
    scripts = AccountScripts(app.redis, Ladder(
        tuple(t.code for t in ladder.tiers), tuple(t.threshold for t in ladder.tiers),
        tuple(t.multiplier_percent for t in ladder.tiers), tier_model.WINDOW_DAYS * 86_400_000,
        tier_model.REVIEW_DAYS))
    accounts = AccountService(app.redis, scripts, ladder, settings.earn_rules, settings.expiry, settings.zone,
                              app.clock, customers, lambda customer_id: outbox.relay(outbox_key(customer_id)),
                              warning_days=settings.downgrade_warning_days)
    app.features["accounts"] = accounts
    app.jobs.append(PeriodicJob("loyalty_expiry", settings.expiry_interval_seconds, accounts.expire_all))
    if app.events is not None:
        app.jobs.append(account_events.consumer(app.events, accounts, app.consumer))
    # tiers: upgrades inside the award script; downgrades at the review
    tiers = TierService(accounts, ladder)
    app.features["tiers"] = tiers
    app.jobs.append(PeriodicJob("loyalty_tier_review", settings.tier_review_interval_seconds, tiers.review_all))
    # rewards: the catalogue and redemptions (stock and points in two steps with compensation)
    rewards = RewardService(accounts, RewardScripts(app.redis))
    app.features["rewards"] = rewards
    accounts.before_erase.append(rewards.forget_customer)  # its stock holds name the customer
    app.jobs.append(PeriodicJob("loyalty_reward_holds", 60, rewards.sweep_holds))
    # referrals: the referrer earns once on the referee's first paid order
    referrals = ReferralService(accounts, settings.referral_points, settings.referral_yearly_cap)
    app.features["referrals"] = referrals
    if app.events is not None:
        app.jobs.append(referral_events.consumer(app.events, referrals, app.consumer))
    app.registrations.append(lambda server: loyalty_service_pb2_grpc.add_LoyaltyServiceServicer_to_server(
        LoyaltyServicer(accounts, tiers, rewards, last_greeting(app)), server))


def last_greeting(app):
    """The account's last greeting, from the greetings feature's delivery log
    (wired after the core, so looked up when asked; none without it)."""
    def last(customer_id: str):
        greetings = app.features.get("greetings")
        return greetings.last_greeting(customer_id) if greetings is not None else None
    return last
