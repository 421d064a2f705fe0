"""Audience conditions read current memberships (segments.Membership, exited_at empty).

The Membership and Audience models belong to the audiences part of segments;
until they exist these tests are skipped.
"""

from datetime import UTC, datetime

import pytest
from django.db import models

from segments import rules
from tests.factories import ProfileFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def segment_models():
    try:
        from segments.models import Audience, Membership
    except ImportError:
        pytest.skip("segments.models.Audience/Membership do not exist yet")
    return Audience, Membership


def make(model, user_factory, **given):
    """An instance with the given fields and a plain value for every other required field."""
    values = dict(given)
    for field in model._meta.concrete_fields:
        if field.name in values or field.auto_created or field.null or field.has_default() or field.blank:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            continue
        if isinstance(field, models.ForeignKey) and field.related_model._meta.label == "auth.User":
            values[field.name] = user_factory("marketer")
        elif isinstance(field, models.JSONField):
            values[field.name] = {"type": "trait", "trait": "t", "op": "exists"}
        elif isinstance(field, models.DateTimeField):
            values[field.name] = NOW
        elif isinstance(field, models.CharField | models.TextField):
            values[field.name] = f"{model.__name__} {len(values)}"
    return model.objects.create(**values)


def test_member_and_not_member(make_user):
    Audience, Membership = segment_models()
    audience = make(Audience, make_user)
    inside, left, never = ProfileFactory(), ProfileFactory(), ProfileFactory()
    make(Membership, make_user, audience=audience, profile=inside, entered_at=NOW, exited_at=None)
    make(Membership, make_user, audience=audience, profile=left, entered_at=NOW, exited_at=NOW)
    rule = {"type": "audience", "audience_id": audience.pk}
    rules.validate(rule)
    assert set(rules.matching_profiles(rule, now=NOW)) == {inside}
    assert set(rules.matching_profiles({**rule, "member": False}, now=NOW)) == {left, never}
    assert rules.evaluate(rule, inside, now=NOW)
    assert not rules.evaluate(rule, left, now=NOW)


def test_an_existing_audience_passes_validation_and_an_unknown_one_does_not(make_user):
    Audience, _ = segment_models()
    audience = make(Audience, make_user)
    rules.validate({"type": "audience", "audience_id": audience.pk})
    with pytest.raises(rules.RuleError) as caught:
        rules.validate({"type": "audience", "audience_id": audience.pk + 1000})
    assert caught.value.errors == [
        {"path": "audience_id", "message": f"no audience with id {audience.pk + 1000}"}
    ]
