"""The fixed parts of Luma's world: products, campaigns, stores, loyalty tiers."""

import random
from dataclasses import dataclass

CATEGORIES = ("yoga", "running", "training", "outdoor", "accessories")
CHANNEL_SOURCES = {
    "web": "Luma web",
    "app": "Luma app",
    "store": "Luma stores",
    "call_center": "Luma call center",
    "email": "Luma email",
}
TIERS = ("Basic", "Silver", "Luma Plus")

ITEMS = {
    "yoga": [
        "Yoga Mat",
        "Yoga Leggings",
        "Yoga Shorts",
        "Yoga Bra",
        "Yoga Block",
        "Yoga Strap",
        "Yoga Tank",
        "Yoga Hoodie",
    ],
    "running": [
        "Running Shoes",
        "Running Shorts",
        "Running Tee",
        "Running Jacket",
        "Running Socks",
        "Running Tights",
        "Running Cap",
        "Running Vest",
    ],
    "training": [
        "Training Tee",
        "Training Shorts",
        "Kettlebell",
        "Resistance Bands",
        "Training Gloves",
        "Training Tank",
        "Jump Rope",
        "Training Pants",
    ],
    "outdoor": [
        "Hiking Boots",
        "Rain Jacket",
        "Fleece",
        "Trail Pack",
        "Hiking Pants",
        "Base Layer",
        "Down Vest",
        "Trekking Poles",
    ],
    "accessories": [
        "Water Bottle",
        "Gym Bag",
        "Headband",
        "Sport Watch Strap",
        "Towel",
        "Beanie",
        "Sunglasses",
        "Wristbands",
    ],
}
BASE_PRICE = {"yoga": 55, "running": 80, "training": 40, "outdoor": 120, "accessories": 20}
COLOURS = ("black", "blue", "sage", "coral", "grey")


@dataclass(frozen=True)
class Product:
    product_id: str
    sku: str
    name: str
    category: str
    price: float


@dataclass(frozen=True)
class Campaign:
    name: str
    source: str
    medium: str
    kind: str  # search, social, display, email, affiliate
    category: str | None  # the category it promotes, if any


@dataclass(frozen=True)
class Store:
    store_id: str
    city: str
    country: str


def build_products() -> list[Product]:
    rng = random.Random(20261124)
    products = []
    for category in CATEGORIES:
        for item in ITEMS[category]:
            for colour in COLOURS:
                n = len(products) + 1
                price = round(BASE_PRICE[category] * rng.uniform(0.6, 1.6), 0) - 0.05
                products.append(
                    Product(
                        f"P{n:04d}", f"{category[:3].upper()}-{n:04d}", f"{item} ({colour})", category, price
                    )
                )
    return products  # 5 categories x 8 items x 5 colours = 200


CAMPAIGNS = [
    Campaign("Yoga spring", "google", "cpc", "search", "yoga"),
    Campaign("Yoga flow social", "instagram", "social", "social", "yoga"),
    Campaign("Run further", "google", "cpc", "search", "running"),
    Campaign("Marathon season", "facebook", "social", "social", "running"),
    Campaign("Train at home", "youtube", "video", "display", "training"),
    Campaign("Trail ready", "google", "cpc", "search", "outdoor"),
    Campaign("Outdoor weekend", "pinterest", "social", "social", "outdoor"),
    Campaign("Brand search", "google", "cpc", "search", None),
    Campaign("Retargeting", "criteo", "display", "display", None),
    Campaign("News display", "news-network", "display", "display", "yoga"),
    Campaign("Black week", "facebook", "social", "social", None),
    Campaign("Luma Plus welcome", "newsletter", "email", "email", None),
    Campaign("Weekly picks", "newsletter", "email", "email", None),
    Campaign("Yoga edit", "newsletter", "email", "email", "yoga"),
    Campaign("Abandoned cart", "crm", "email", "email", None),
    Campaign("Cashback partners", "cashback-site", "affiliate", "affiliate", None),
    Campaign("Fitness bloggers", "blog-network", "affiliate", "affiliate", "training"),
    Campaign("Running clubs", "club-partners", "affiliate", "affiliate", "running"),
    Campaign("Accessories deals", "bing", "cpc", "search", "accessories"),
    Campaign("App install", "app-network", "display", "display", None),
]

STORES = [
    Store("S01", "Stockholm", "SE"),
    Store("S02", "Gothenburg", "SE"),
    Store("S03", "Malmö", "SE"),
    Store("S04", "Copenhagen", "DK"),
    Store("S05", "Oslo", "NO"),
    Store("S06", "Helsinki", "FI"),
    Store("S07", "Berlin", "DE"),
    Store("S08", "Amsterdam", "NL"),
    Store("S09", "London", "GB"),
    Store("S10", "Paris", "FR"),
]
OTHER_CITIES = ["Uppsala", "Lund", "Hamburg", "Manchester", "Lyon", "Aarhus", "Bergen", "Tampere"]
BROWSERS = [("Chrome", 0.55), ("Safari", 0.3), ("Firefox", 0.1), ("Edge", 0.05)]
DEVICES = [("desktop", 0.45), ("mobile", 0.45), ("tablet", 0.1)]
COUPONS = ("WELCOME10", "YOGA10", "PLUS15", "BLACKWEEK20")
