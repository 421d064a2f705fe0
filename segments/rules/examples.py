"""Rules the scenario names, for the docs' examples, tests and benchmarks (copy before changing one)."""

# ../shared/SCENARIO.md: people who bought yoga apparel at some time but nothing in the last 60 days.
YOGA_LAPSED = {
    "type": "and",
    "conditions": [
        {
            "type": "event",
            "op": "did",
            "event": "Order Completed",
            "filters": [{"property": "products[].category", "op": "equals", "value": "yoga"}],
        },
        {
            "type": "event",
            "op": "did_not",
            "event": "Order Completed",
            "window": {"type": "last_days", "days": 60},
        },
    ],
}
