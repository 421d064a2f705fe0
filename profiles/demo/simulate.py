"""One Luma customer: latent traits, the behaviour they drive, and the hidden ground truth.

Everything is a pure function of (seed, person index, today, days), so any chunk of people can be
generated on its own and a given seed always gives the same world. The latent traits are never written
into events or traits; the ground truth describes a hidden 30-day window after ``today`` whose events
are not generated at all.
"""

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from profiles.demo.catalogue import (
    BROWSERS,
    CAMPAIGNS,
    CATEGORIES,
    COUPONS,
    DEVICES,
    OTHER_CITIES,
    STORES,
    TIERS,
    Campaign,
    Product,
    build_products,
)

PRODUCTS = build_products()
BY_CATEGORY = {c: [p for p in PRODUCTS if p.category == c] for c in CATEGORIES}
FIRST = [
    "Anna",
    "Erik",
    "Maja",
    "Lars",
    "Sofia",
    "Jonas",
    "Emma",
    "Oskar",
    "Lea",
    "Noah",
    "Ida",
    "Hugo",
    "Clara",
    "Felix",
    "Nora",
    "Liam",
    "Elsa",
    "Adam",
    "Alva",
    "Leo",
]
LAST = [
    "Andersson",
    "Berg",
    "Dahl",
    "Ek",
    "Forsberg",
    "Holm",
    "Isaksson",
    "Jansen",
    "Karlsson",
    "Lund",
    "Madsen",
    "Nilsson",
    "Olsen",
    "Persson",
    "Quist",
    "Roos",
    "Svensson",
    "Thomsen",
    "Vik",
    "Wikström",
]
HIDDEN_WINDOW_DAYS = 30
SARAH_INDEX = 0


def _pick(rng: random.Random, weighted: list[tuple]) -> str:
    return rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted])[0]


@dataclass
class Person:
    index: int
    user_id: str | None
    email: str | None
    phone: str | None
    first_name: str
    last_name: str
    tier: str | None
    points: int
    affinity: dict[str, float]  # latent: category -> share of interest
    price_sensitivity: float  # latent
    prefers_app: bool  # latent
    city: str
    store: object
    browser: str
    device: str
    responsiveness: dict[str, float]  # latent: campaign kind -> how much a touch lifts buying
    discount_responsiveness: float  # latent
    activity: float  # latent: sessions per 30 days
    consent: dict[str, bool]
    devices: list[str] = field(default_factory=list)
    signs_in_at: int | None = None  # the session at which the person first signs in online


def make_person(seed: int, index: int) -> Person:
    rng = random.Random(f"{seed}:person:{index}")
    raw = [rng.gammavariate(0.6, 1.0) for _ in CATEGORIES]
    total = sum(raw) or 1.0
    affinity = {c: v / total for c, v in zip(CATEGORIES, raw, strict=True)}
    known = rng.random() < 0.55
    first, last = rng.choice(FIRST), rng.choice(LAST)
    in_store_city = rng.random() < 0.7
    store = rng.choice(STORES) if in_store_city else None
    person = Person(
        index=index,
        user_id=f"u{index:07d}" if known else None,
        email=f"{first}.{last}.{index}@example.com".lower() if known else None,
        phone=f"+4670{rng.randrange(1000000, 9999999)}" if known and rng.random() < 0.6 else None,
        first_name=first,
        last_name=last,
        tier=_pick(rng, [(TIERS[0], 0.6), (TIERS[1], 0.28), (TIERS[2], 0.12)]) if known else None,
        points=rng.randrange(0, 4000) if known else 0,
        affinity=affinity,
        price_sensitivity=rng.betavariate(2, 2),
        prefers_app=rng.random() < 0.35,
        city=store.city if store else rng.choice(OTHER_CITIES),
        store=store,
        browser=_pick(rng, BROWSERS),
        device=_pick(rng, DEVICES),
        responsiveness={
            kind: rng.betavariate(2, 3) for kind in ("search", "social", "display", "email", "affiliate")
        },
        discount_responsiveness=rng.betavariate(2, 3),
        activity=rng.lognormvariate(0.7, 0.7),
        consent={
            "collect": rng.random() > 0.03,
            "personalize": rng.random() < 0.7,
            "share": rng.random() < 0.5,
            "email": rng.random() < 0.6,
            "sms": rng.random() < 0.3,
            "push": rng.random() < 0.25,
            "phone": rng.random() < 0.4,
        },
    )
    person.devices = [f"anon-{seed}-{index}-{k}" for k in range(1 + (rng.random() < 0.3))]
    if known:
        person.signs_in_at = rng.choice([0, 0, 1, 2, 3])
    if index == SARAH_INDEX:
        _make_sarah(person)
    return person


def _make_sarah(person: Person) -> None:
    person.user_id, person.email, person.phone = "sarah", "sarah@luma.example", "+46701234567"
    person.first_name, person.last_name = "Sarah", "Lind"
    person.tier, person.points = "Luma Plus", 2450
    person.affinity = {"yoga": 0.7, "running": 0.1, "training": 0.1, "outdoor": 0.05, "accessories": 0.05}
    person.store = STORES[0]
    person.city = STORES[0].city
    person.consent = {
        "collect": True,
        "personalize": True,
        "share": True,
        "email": True,
        "sms": False,
        "push": False,
        "phone": True,
    }
    person.signs_in_at = 0


def shared_device_partner(seed: int, index: int) -> int | None:
    """Every 150th known person also signs in on the first device of the person before them."""
    if index % 150 == 149 and make_person(seed, index).user_id and make_person(seed, index - 1).user_id:
        return index - 1
    return None


class Stream:
    """Builds one person's Segment messages, in time order."""

    def __init__(self, seed: int, person: Person):
        self.seed, self.person, self.messages, self.n = seed, person, [], 0
        self.signed_in = False

    def add(
        self,
        type: str,
        when: datetime,
        channel: str,
        *,
        device: str | None = None,
        campaign=None,
        known: bool | None = None,
        **fields,
    ) -> dict:
        p = self.person
        self.n += 1
        message = {
            "type": type,
            "messageId": f"luma-{self.seed}-{p.index}-{self.n}",
            "timestamp": when.isoformat(),
        }
        use_user = self.signed_in if known is None else known
        if use_user and p.user_id:
            message["userId"] = p.user_id
        if channel in ("web", "app") or not message.get("userId"):
            message["anonymousId"] = device or p.devices[0]
        context = {"channel": channel, "consent": p.consent}
        if channel == "web":
            context["userAgent"] = f"Mozilla/5.0 ({p.device}) {p.browser}"
            context["library"] = {"name": "analytics.js", "version": "5.2.0"}
            context["device"] = {"type": p.device}
        elif channel == "app":
            context["app"] = {"name": "Luma", "version": "4.1"}
            context["device"] = {"type": "mobile"}
        context["location"] = {"city": p.city}
        if campaign is not None:
            context["campaign"] = {
                "name": campaign.name,
                "source": campaign.source,
                "medium": campaign.medium,
            }
        message["context"] = context
        message.update(fields)
        self.messages.append(message)
        return message

    def identify(self, when: datetime, channel: str, device: str | None = None) -> None:
        p = self.person
        traits = {
            "email": p.email,
            "first_name": p.first_name,
            "last_name": p.last_name,
            "loyalty_tier": p.tier,
            "loyalty_points": p.points,
            "city": p.city,
        }
        if p.phone:
            traits["phone"] = p.phone
        self.signed_in = True
        self.add("identify", when, channel, device=device, known=True, traits=traits)


def _order_properties(rng: random.Random, products: list[Product], order_id: str, coupon: str | None) -> dict:
    lines = [
        {
            "product_id": pr.product_id,
            "sku": pr.sku,
            "name": pr.name,
            "category": pr.category,
            "price": pr.price,
            "quantity": rng.choice([1, 1, 1, 2]),
        }
        for pr in products
    ]
    subtotal = round(sum(line["price"] * line["quantity"] for line in lines), 2)
    discount = round(subtotal * 0.10, 2) if coupon else 0.0
    props = {
        "order_id": order_id,
        "products": lines,
        "subtotal": subtotal,
        "discount": discount,
        "revenue": round(subtotal - discount, 2),
        "currency": "EUR",
    }
    if coupon:
        props["coupon"] = coupon
    return props


def _campaign_for(rng: random.Random, person: Person) -> Campaign | None:
    non_email = [c for c in CAMPAIGNS if c.kind != "email"]
    weights = [
        person.responsiveness[c.kind] * (1 + 3 * person.affinity.get(c.category or "", 0.2))
        for c in non_email
    ]
    return rng.choices(non_email, weights=weights)[0]


def _buy_probability(person: Person, category: str, campaign: Campaign | None, coupon: bool) -> float:
    p = 0.08 + 0.55 * person.affinity[category]
    p *= 1.15 - 0.6 * person.price_sensitivity
    if campaign is not None:
        p *= 1 + person.responsiveness[campaign.kind]
    if coupon:
        p *= 1 + person.discount_responsiveness
    return min(p, 0.9)


def simulate(seed: int, index: int, *, today: datetime, days: int) -> tuple[list[dict], dict]:
    """(messages in time order, ground truth row) for one person."""
    person = make_person(seed, index)
    rng = random.Random(f"{seed}:behaviour:{index}")
    stream = Stream(seed, person)
    start = today - timedelta(days=days)
    if index == SARAH_INDEX:
        _sarah_history(stream, rng, today)
    else:
        _sessions(stream, rng, start, days, partner_device=None)
        partner = shared_device_partner(seed, index)
        if partner is not None:
            # A second person signs in on a family device; the device follows the latest sign-in.
            shared = f"anon-{seed}-{partner}-0"
            when = today - timedelta(days=rng.uniform(1, 10))
            stream.identify(when, "web", device=shared)
            stream.add(
                "track",
                when + timedelta(minutes=2),
                "web",
                device=shared,
                event="Product Viewed",
                properties=_product_props(rng.choice(PRODUCTS)),
            )
        _store_and_offline(stream, rng, start, days)
    stream.messages.sort(key=lambda m: m["timestamp"])
    return stream.messages, _truth(seed, person, stream.messages, today)


def _product_props(product: Product) -> dict:
    return {
        "product_id": product.product_id,
        "sku": product.sku,
        "name": product.name,
        "category": product.category,
        "price": product.price,
    }


def _sessions(stream: Stream, rng: random.Random, start: datetime, days: int, partner_device) -> None:
    person = stream.person
    count = _poisson(rng, person.activity * days / 30)
    times = sorted(start + timedelta(seconds=rng.uniform(0, days * 86400)) for _ in range(count))
    carry: list[tuple[datetime, str]] = []  # return visits after a campaign touch, with their category
    for number, when in enumerate(times):
        touched = _campaign_for(rng, person) if rng.random() < 0.35 else None
        focus = (
            touched.category
            if touched and touched.category and rng.random() < 0.6
            else rng.choices(CATEGORIES, weights=[person.affinity[c] for c in CATEGORIES])[0]
        )
        bought = _session(stream, rng, when, number, focus, touched)
        if touched is not None and not bought and rng.random() < 0.35:
            carry.append((when + timedelta(days=rng.uniform(0.5, 6)), focus))
    for when, focus in carry:
        if when < start + timedelta(days=days):
            _session(stream, rng, when, len(times), focus, None, returning=True)


def _session(
    stream: Stream,
    rng: random.Random,
    when: datetime,
    number: int,
    focus: str,
    campaign: Campaign | None,
    returning: bool = False,
) -> bool:
    """One visit: home, maybe a search, product views, and perhaps cart, checkout and an order.

    A campaign touch stays in the context of every event of the visit (its UTM parameters), so an
    order in the same visit carries the campaign.
    """
    person = stream.person
    channel = "app" if person.prefers_app and rng.random() < 0.7 else "web"
    device = person.devices[-1] if channel == "app" else person.devices[0]
    if (
        person.user_id
        and person.signs_in_at is not None
        and number >= person.signs_in_at
        and not stream.signed_in
    ):
        stream.identify(when, channel, device=device)

    def add(type: str, at: datetime, **fields) -> dict:
        return stream.add(type, at, channel, device=device, campaign=campaign, **fields)

    t = when
    add(
        "screen" if channel == "app" else "page",
        t,
        name="Home",
        properties={"path": "/", "referrer": campaign.source if campaign else ""},
    )
    if rng.random() < 0.3:
        t += timedelta(seconds=rng.uniform(5, 60))
        add("track", t, event="Products Searched", properties={"query": focus})
    viewed = rng.sample(BY_CATEGORY[focus], k=min(len(BY_CATEGORY[focus]), 1 + _poisson(rng, 1.5)))
    for product in viewed:
        t += timedelta(seconds=rng.uniform(10, 120))
        add("track", t, event="Product Viewed", properties=_product_props(product))
    coupon = (
        COUPONS[rng.randrange(len(COUPONS))]
        if rng.random() < 0.25 * (1 + person.discount_responsiveness)
        else None
    )
    p_buy = _buy_probability(person, focus, campaign, bool(coupon)) * (1.4 if returning else 1.0)
    if rng.random() > min(0.95, p_buy * 1.6):
        return False
    basket = viewed[: rng.choice([1, 1, 2])]
    for product in basket:
        t += timedelta(seconds=rng.uniform(5, 60))
        add("track", t, event="Product Added", properties={**_product_props(product), "quantity": 1})
    if rng.random() > 0.75:
        return False
    t += timedelta(seconds=rng.uniform(20, 120))
    add("track", t, event="Checkout Started", properties={"products": [_product_props(p) for p in basket]})
    if rng.random() > 0.6:
        return False
    t += timedelta(seconds=rng.uniform(30, 300))
    add(
        "track",
        t,
        event="Order Completed",
        properties=_order_properties(rng, basket, f"W{stream.seed}-{person.index}-{stream.n}", coupon),
    )
    return True


def _store_and_offline(stream: Stream, rng: random.Random, start: datetime, days: int) -> None:
    person = stream.person
    if not person.user_id:
        return
    if person.store is not None:
        for _ in range(_poisson(rng, 0.35 * days / 30 * (0.5 + person.activity / 4))):
            when = start + timedelta(seconds=rng.uniform(0, days * 86400))
            category = rng.choices(CATEGORIES, weights=[person.affinity[c] for c in CATEGORIES])[0]
            products = rng.sample(BY_CATEGORY[category], k=rng.choice([1, 1, 2]))
            props = _order_properties(rng, products, f"S{stream.seed}-{person.index}-{stream.n}", None)
            props["store_id"] = person.store.store_id
            stream.add("track", when, "store", known=True, event="Order Completed", properties=props)
    if person.consent["email"]:
        emails = [c for c in CAMPAIGNS if c.kind == "email"]
        for week in range(days // 7):
            campaign = emails[week % len(emails)]
            when = start + timedelta(days=week * 7 + rng.uniform(0, 1))
            stream.add(
                "track",
                when,
                "email",
                known=True,
                campaign=campaign,
                event="Email Sent",
                properties={"campaign": campaign.name},
            )
            if rng.random() < 0.2 + 0.5 * person.responsiveness["email"]:
                opened = when + timedelta(hours=rng.uniform(0.5, 30))
                stream.add(
                    "track",
                    opened,
                    "email",
                    known=True,
                    campaign=campaign,
                    event="Email Opened",
                    properties={"campaign": campaign.name},
                )
                if rng.random() < 0.35 * (1 + person.responsiveness["email"]):
                    clicked = opened + timedelta(minutes=rng.uniform(0, 5))
                    stream.add(
                        "track",
                        clicked,
                        "email",
                        known=True,
                        campaign=campaign,
                        event="Email Link Clicked",
                        properties={"campaign": campaign.name},
                    )
                    focus = campaign.category or max(person.affinity, key=person.affinity.get)
                    _session(stream, rng, clicked + timedelta(minutes=1), 99, focus, campaign)
    for _ in range(_poisson(rng, 0.04 * days / 30)):
        when = start + timedelta(seconds=rng.uniform(0, days * 86400))
        reason = rng.choice(["order status", "price question", "returns", "sizing"])
        stream.add(
            "track", when, "call_center", known=True, event="Call Started", properties={"reason": reason}
        )
        stream.add(
            "track",
            when + timedelta(minutes=rng.uniform(2, 15)),
            "call_center",
            known=True,
            event="Call Completed",
            properties={"reason": reason, "resolved": rng.random() < 0.8},
        )


def _sarah_history(stream: Stream, rng: random.Random, today: datetime) -> None:
    """Sarah: Luma Plus, yoga online and in store, nothing bought in the last 60 days."""
    yoga = BY_CATEGORY["yoga"]
    web = stream.person.devices[0]
    t = today - timedelta(days=170)
    stream.add("page", t, "web", device=web, name="Home", properties={"path": "/"})
    stream.identify(t + timedelta(minutes=1), "web", device=web)
    stream.add(
        "track",
        t + timedelta(minutes=3),
        "web",
        device=web,
        event="Product Viewed",
        properties=_product_props(yoga[0]),
    )
    stream.add(
        "track",
        t + timedelta(minutes=8),
        "web",
        device=web,
        event="Order Completed",
        properties=_order_properties(rng, [yoga[0]], "W-sarah-1", None),
    )
    store_day = today - timedelta(days=95)
    props = _order_properties(rng, [yoga[7], yoga[12]], "S-sarah-1", None)
    props["store_id"] = stream.person.store.store_id
    stream.add("track", store_day, "store", known=True, event="Order Completed", properties=props)
    for days_ago in (40, 21, 9, 3):
        t = today - timedelta(days=days_ago, hours=rng.uniform(1, 10))
        stream.add("page", t, "web", device=web, name="Home", properties={"path": "/"})
        for product in rng.sample(yoga, 2):
            t += timedelta(minutes=2)
            stream.add(
                "track", t, "web", device=web, event="Product Viewed", properties=_product_props(product)
            )
    stream.add(
        "track",
        today - timedelta(days=14),
        "email",
        known=True,
        campaign=CAMPAIGNS[13],
        event="Email Opened",
        properties={"campaign": CAMPAIGNS[13].name},
    )


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _truth(seed: int, person: Person, messages: list[dict], today: datetime) -> dict:
    """The true chance of buying yoga apparel in the hidden 30 days after today, and what happened."""
    rng = random.Random(f"{seed}:truth:{person.index}")
    recent_yoga_interest = sum(
        1
        for m in messages[-40:]
        if m.get("event") == "Product Viewed"
        and m.get("properties", {}).get("category") == "yoga"
        and m["timestamp"] >= (today - timedelta(days=30)).isoformat()
    )
    collect = person.consent["collect"]
    rate = (person.activity / 30) * 0.3 * person.affinity["yoga"] * (1.15 - 0.6 * person.price_sensitivity)
    rate *= 1 + 0.25 * min(recent_yoga_interest, 4)
    if person.user_id:
        rate *= 1.2
    if person.index == SARAH_INDEX:
        rate = max(rate, 0.012)
    probability = 1 - math.exp(-rate * HIDDEN_WINDOW_DAYS)
    key = ("user_id", person.user_id) if person.user_id else ("anonymous_id", person.devices[0])
    return {
        "key": key,
        "true_probability": round(probability, 6),
        "outcome": int(rng.random() < probability),
        "collect": collect,
        "yoga_affinity": person.affinity["yoga"],
    }
