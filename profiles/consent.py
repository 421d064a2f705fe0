"""Reading consent statements out of a message's ``context``.

Accepted shapes (all in ``context.consent``):

* purposes and channels as booleans: ``{"collect": true, "personalize": false, "email": true}``;
* the same with ``"y"``/``"n"`` (also ``"yes"``/``"no"``, ``"true"``/``"false"``, ``1``/``0``);
* Segment's consent object: ``{"categoryPreferences": {"Advertising": true, ...}}``, mapped by
  :data:`CATEGORY_MAP` (case-insensitive). A direct purpose key wins over a mapped category.

Keys that are absent stay unknown: the source's ``default_consent`` applies to them. The mapping is
documented in ``docs/consent.md``.
"""

from profiles.models import CONSENT_KEYS

TRUE_VALUES = {"y", "yes", "true", "1", "granted", "opt_in", "in"}
FALSE_VALUES = {"n", "no", "false", "0", "denied", "opt_out", "out"}

# Segment / OneTrust-style categories -> our purposes and channels.
CATEGORY_MAP: dict[str, tuple[str, ...]] = {
    "analytics": ("collect",),
    "performance": ("collect",),
    "statistics": ("collect",),
    "necessary": (),
    "strictlynecessary": (),
    "functional": ("personalize",),
    "personalization": ("personalize",),
    "personalisation": ("personalize",),
    "advertising": ("share",),
    "targeting": ("share",),
    "marketing": ("share", "email", "sms", "push"),
    "email": ("email",),
    "sms": ("sms",),
    "push": ("push",),
    "phone": ("phone",),
}


def consent_value(value) -> bool | None:
    """True/False for a recognisable consent value, None for anything else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value) if value in (0, 1) else None
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in TRUE_VALUES:
            return True
        if lowered in FALSE_VALUES:
            return False
    return None


def parse_consent(context: dict | None) -> dict[str, bool]:
    """The consent statements a message makes: ``{"collect": True, "email": False, ...}``."""
    if not isinstance(context, dict):
        return {}
    consent = context.get("consent")
    if not isinstance(consent, dict):
        return {}
    statements: dict[str, bool] = {}
    categories = consent.get("categoryPreferences")
    if isinstance(categories, dict):
        for category, raw in categories.items():
            value = consent_value(raw)
            if value is None or not isinstance(category, str):
                continue
            key = category.replace(" ", "").replace("_", "").replace("-", "").lower()
            for purpose in CATEGORY_MAP.get(key, ()):
                # A denial in any mapped category wins over a grant in another.
                statements[purpose] = statements.get(purpose, True) and value
    for key in CONSENT_KEYS:
        if key in consent:
            value = consent_value(consent[key])
            if value is not None:
                statements[key] = value
    return statements


def collect_denied(context: dict | None) -> bool:
    """Whether the message itself says that collection is denied."""
    return parse_consent(context).get("collect") is False
