"""Demo customers: Chinese and English names, valid mainland phones, regions,
stages, tags, preferences and (lunar or Gregorian) birthdays.

Deterministic: customer n always gets the same name and phone, and phones
never repeat (the index goes through a bijection of the 8 digit suffix).
"""

from __future__ import annotations

import random

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红娥玲芬燕彬鹏辉建国建华志强海燕晓东晓明子涵梓萱浩然欣怡宇轩雨桐一诺"
FIRST = ["Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Ava", "Elijah", "Sophia", "James", "Mia", "William",
         "Grace", "Henry", "Chloe", "Lucas", "Ella", "Jack", "Lily", "Daniel"]
LAST = ["Smith", "Johnson", "Brown", "Taylor", "Wilson", "Davies", "Evans", "Thomas", "Roberts", "Walker",
        "Wright", "Thompson", "White", "Hughes", "Edwards", "Green", "Hall", "Wood", "Harris", "Clarke"]
COMPANY_SUFFIX = ["科技有限公司", "贸易有限公司", "酒店管理有限公司", "餐饮有限公司", "物流有限公司"]
REGIONS = [("北京", "北京"), ("上海", "上海"), ("广东", "广州"), ("广东", "深圳"), ("浙江", "杭州"), ("浙江", "宁波"),
           ("江苏", "南京"), ("江苏", "苏州"), ("四川", "成都"), ("湖北", "武汉"), ("陕西", "西安"), ("福建", "厦门"),
           ("山东", "青岛"), ("重庆", "重庆"), ("天津", "天津"), ("湖南", "长沙")]
MOBILE_PREFIXES = ["138", "139", "150", "151", "158", "186", "188", "136", "137", "159"]
DEMO_REPS = [f"rep-{i:03d}" for i in range(1, 21)]
DEMO_TEAM = "team-east"
STAGES = ["new", "contacted", "target", "strong_intent", "negotiating", "won", "lost", "dormant"]
TAGS = ["老客户", "高潜力", "价格敏感", "vip", "wechat", "企业采购", "回头客"]
PREFERENCES = [("seat", "likes the window seat"), ("room", "favourite room type: lake view"),
               ("drink", "喜欢龙井茶"), ("contact", "prefers WeChat after 18:00"), ("room", "favourite room: 1208")]


def demo_phone(n: int) -> str:
    prefix = MOBILE_PREFIXES[n % len(MOBILE_PREFIXES)]
    suffix = (n // len(MOBILE_PREFIXES) * 7919 + 12345) % 100_000_000  # 7919 is coprime with 10^8
    return f"+86{prefix}{suffix:08d}"


# One demo customer in this many gave SMS consent when recorded (the others: unknown, so no SMS).
SMS_CONSENT_EVERY = 5


def demo_customer(n: int) -> dict:
    rnd = random.Random(n)
    province, city = rnd.choice(REGIONS)
    roll = rnd.random()
    if roll < 0.65:
        name = rnd.choice(SURNAMES) + "".join(rnd.choice(GIVEN) for _ in range(rnd.choice((1, 2))))
        kind, email = "person", ""
    elif roll < 0.9:
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        name, kind, email = f"{first} {last}", "person", f"{first}.{last}{n}@example.com".lower()
    else:
        # The number keeps company names unique per region (company name + region is a natural key).
        name, kind, email = f"{city}{rnd.choice(SURNAMES)}氏{rnd.choice(COMPANY_SUFFIX)}{n}号", "company", ""
    customer = {
        "display_name": name, "kind": kind, "phones": [demo_phone(n)], "emails": [email] if email else [],
        "region": {"province": province, "city": city}, "owner_id": DEMO_REPS[n % len(DEMO_REPS)],
        "stage": rnd.choice(STAGES), "level": rnd.choice("ABCD"), "tags": rnd.sample(TAGS, rnd.randrange(3)),
        "type": "customer" if rnd.random() < 0.6 else "prospect", "source": rnd.choice(["web", "phone", "referral"]),
    }
    if n % SMS_CONSENT_EVERY == 0:  # some have said yes to SMS, so greetings go out on a festival day
        customer["consent_sms"] = {"state": "granted"}
    if rnd.random() < 0.3:
        topic, note = rnd.choice(PREFERENCES)
        customer["preferences"] = [{"topic": topic, "note": note}]
    if kind == "person" and rnd.random() < 0.5:
        lunar = rnd.random() < 0.4
        customer["birthday"] = {"calendar": "lunar" if lunar else "gregorian", "year": rnd.randrange(1960, 2005),
                                "month": rnd.randrange(1, 13), "day": rnd.randrange(1, 29)}
    return customer
