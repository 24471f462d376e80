"""The demo's loyalty story for `make run`: a rewards catalogue (one of them
nearly out of stock, one not yet valid), the greeting templates the demo
company wrote for Mid-Autumn (its own words, the other occasions keep the
shipped ones), and a few accounts with points beyond those the paid demo
orders earn (order.paid), given as audited admin adjustments, some of them
spent on a reward; those customers also give SMS consent (the customer
service's record), so a greeting run (`POST /api/v1/greetings/runs` with a
holiday's date; it answers 202 at once, and `GET` of its Location shows it
until `finished_at` is set) has someone to greet and the local sink something
to list.
Everything goes through the services' APIs, with request ids, so seeding
twice changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import grpc

from google.protobuf import field_mask_pb2

from crm.common.v1 import common_pb2
from crm.customer.v1 import customer_service_pb2 as cpb, customer_service_pb2_grpc
from crm.loyalty.v1 import greeting_service_pb2 as gpb, greeting_service_pb2_grpc
from crm.loyalty.v1 import loyalty_service_pb2 as lpb, loyalty_service_pb2_grpc
from crm_kit.grpc_client import open_channel

# (name, description, points cost, stock, per-customer limit, valid from in days from today or None)
REWARDS = [
    ("星巴克中杯券", "任意门店兑换一杯中杯饮品", 800, 500, 5, None),
    ("免费升级湖景房", "入住时可升级一次湖景房（视房态）", 3000, 40, 1, None),
    ("中秋月饼礼盒", "广式双黄莲蓉，限量", 2000, 3, 1, None),
    ("Airport lounge pass", "One visit, any partner lounge", 5000, 100, 2, None),
    ("新春礼包", "春节前两周开放兑换", 1500, 200, 1, 30),
]
TEMPLATES = [
    ("mid_autumn", "zh", "中秋快乐", "{name}，月圆人团圆！感谢您一直以来的支持，作为我们的{tier}会员，祝您中秋快乐。"),
    ("mid_autumn", "en", "Happy Mid-Autumn Festival",
     "Dear {name}, may the full moon bring you and your family joy. Thank you for being a {tier} member."),
]
ADJUSTED_ACCOUNTS = 12  # the first customers get a welcome gift
WELCOME_POINTS = 2000


def _date(day) -> common_pb2.Date:
    return common_pb2.Date(year=day.year, month=day.month, day=day.day)


def seed_loyalty_demo(customer_target: str, loyalty_target: str, token: str, customers: list[str]) -> dict:
    """The loyalty story for `customers` (the first ADJUSTED_ACCOUNTS get a
    welcome adjustment and give SMS consent; every third of those redeems
    the cheapest reward)."""
    directory = customer_service_pb2_grpc.CustomerServiceStub(open_channel(
        customer_target, "crm.customer.v1.CustomerService", default_timeout=30.0))
    channel = open_channel(loyalty_target, "crm.loyalty.v1.LoyaltyService", default_timeout=30.0)
    loyalty = loyalty_service_pb2_grpc.LoyaltyServiceStub(channel)
    greetings = greeting_service_pb2_grpc.GreetingServiceStub(channel)
    metadata = [("authorization", f"Bearer {token}")]
    today = datetime.now(timezone.utc).date()
    try:
        rewards = []
        for n, (name, description, cost, stock, limit, from_days) in enumerate(REWARDS):
            reward = lpb.Reward(name=name, description=description, points_cost=cost, stock=stock,
                                per_customer_limit=limit)
            if from_days is not None:
                reward.valid_from.CopyFrom(_date(today + timedelta(days=from_days)))
                reward.valid_until.CopyFrom(_date(today + timedelta(days=from_days + 60)))
            rewards.append(loyalty.CreateReward(lpb.CreateRewardRequest(reward=reward, request_id=f"demo-reward-{n}"),
                                                metadata=metadata))
        for occasion, language, subject, body in TEMPLATES:
            greetings.UpdateGreetingTemplate(gpb.UpdateGreetingTemplateRequest(template=gpb.GreetingTemplate(
                occasion=occasion, language=language, subject=subject, body=body)), metadata=metadata)
        adjusted = redeemed = 0
        for n, customer in enumerate(customers[:ADJUSTED_ACCOUNTS]):
            loyalty.AdjustPoints(lpb.AdjustPointsRequest(
                customer_id=customer, points=WELCOME_POINTS, reason="demo: welcome gift",
                request_id=f"demo-welcome-{customer}"), metadata=metadata)
            adjusted += 1
            etag = directory.GetCustomer(cpb.GetCustomerRequest(id=customer), metadata=metadata).etag
            directory.UpdateCustomer(cpb.UpdateCustomerRequest(
                customer=cpb.Customer(id=customer, consent_sms=cpb.Consent(state="granted")),
                update_mask=field_mask_pb2.FieldMask(paths=["consent_sms"]), etag=etag), metadata=metadata)
            if n % 3 == 0:
                loyalty.RedeemReward(lpb.RedeemRewardRequest(customer_id=customer, reward_id=rewards[0].reward_id,
                                                             request_id=f"demo-redeem-{customer}"),
                                     metadata=metadata)
                redeemed += 1
    except grpc.RpcError as err:
        raise SystemExit(f"demo loyalty failed: {err.code().name}: {err.details()}") from None
    finally:
        channel.close()
    return {"rewards": len(rewards), "templates": len(TEMPLATES), "adjusted": adjusted, "redeemed": redeemed}
