from rest_framework import serializers

from profiles.extensions import profile_sections
from profiles.models import Event, Identity, Profile


class IdentityOutput(serializers.ModelSerializer):
    class Meta:
        model = Identity
        fields = ["namespace", "value", "first_seen", "last_seen"]


class ProfileOutput(serializers.ModelSerializer):
    identities = IdentityOutput(many=True, read_only=True)
    sections = serializers.SerializerMethodField()

    class Meta:
        model = Profile
        fields = [
            "id",
            "display_name",
            "is_known",
            "identities",
            "traits",
            "consent",
            "first_seen",
            "last_seen",
            "event_count",
            "sections",
        ]

    def get_sections(self, profile) -> dict:
        return profile_sections(profile)


class EventOutput(serializers.ModelSerializer):
    source = serializers.CharField(source="source.name", default=None)

    class Meta:
        model = Event
        fields = [
            "id",
            "type",
            "event",
            "channel",
            "timestamp",
            "received_at",
            "properties",
            "context",
            "source",
            "message_id",
        ]


class LookupInput(serializers.Serializer):
    namespace = serializers.ChoiceField(choices=Identity.Namespace.choices)
    value = serializers.CharField(max_length=255)
