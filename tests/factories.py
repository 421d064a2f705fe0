"""factory_boy factories for the models every app's tests need."""

import factory
from django.utils import timezone

from profiles.models import Event, Identity, Profile, Source


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    name = factory.Sequence(lambda n: f"Source {n}")


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Profile

    traits = factory.LazyFunction(dict)
    first_seen = factory.LazyFunction(timezone.now)
    last_seen = factory.LazyFunction(timezone.now)


class IdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Identity

    profile = factory.SubFactory(ProfileFactory)
    namespace = Identity.Namespace.USER_ID
    value = factory.Sequence(lambda n: f"user-{n}")
    first_seen = factory.LazyFunction(timezone.now)
    last_seen = factory.LazyFunction(timezone.now)


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    profile = factory.SubFactory(ProfileFactory)
    source = factory.SubFactory(SourceFactory)
    message_id = factory.Sequence(lambda n: f"msg-{n}")
    type = "track"
    event = "Product Viewed"
    channel = "web"
    timestamp = factory.LazyFunction(timezone.now)
    received_at = factory.LazyFunction(timezone.now)
    properties = factory.LazyFunction(dict)
    context = factory.LazyFunction(dict)
