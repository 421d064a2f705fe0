"""The profile management API (Bearer token): lookup, detail, events, GDPR export and erasure."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from cxo_site.roles import ADMIN, AGENT, MARKETER, HasRole
from profiles import gdpr, selectors
from profiles.api.serializers import EventOutput, LookupInput, ProfileOutput

READERS = HasRole.of(AGENT, MARKETER, ADMIN)


class ProfileLookupApi(APIView):
    permission_classes = [READERS]

    @extend_schema(
        summary="Find a profile by one of its identities",
        parameters=[
            OpenApiParameter("namespace", enum=["anonymous_id", "user_id", "email", "phone"], required=True),
            OpenApiParameter("value", required=True, description="Normalized as processing does."),
        ],
        responses={200: ProfileOutput},
    )
    def get(self, request):
        data = LookupInput(data=request.query_params)
        data.is_valid(raise_exception=True)
        return Response(ProfileOutput(selectors.profile_lookup(**data.validated_data)).data)


class ProfileDetailApi(APIView):
    permission_classes = [READERS]

    @extend_schema(
        summary="A profile: identities, traits, consent, first/last seen, event count",
        responses={200: ProfileOutput},
    )
    def get(self, request, profile_id: int):
        return Response(ProfileOutput(selectors.profile_detail(profile_id=profile_id)).data)


class EventCursor(CursorPagination):
    ordering = ("-timestamp", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class ProfileEventsApi(ListAPIView):
    """A profile's events, newest first, cursor-paginated: ``{"next", "previous", "results"}``."""

    permission_classes = [READERS]
    serializer_class = EventOutput
    pagination_class = EventCursor

    def get_queryset(self):
        profile = selectors.profile_detail(profile_id=self.kwargs["profile_id"])
        return selectors.profile_events(profile=profile)


class ProfileExportApi(APIView):
    permission_classes = [HasRole.of(ADMIN, AGENT)]

    @extend_schema(
        summary="GDPR access: everything held about the person",
        responses={
            200: inline_serializer(
                "ProfileExport",
                {
                    "profile": ProfileOutput(),
                    "events": EventOutput(many=True),
                    "merges": serializers.ListField(child=serializers.DictField()),
                },
            )
        },
    )
    def get(self, request, profile_id: int):
        return Response(gdpr.export_profile(profile_id=profile_id))


class ProfileEraseApi(APIView):
    permission_classes = [HasRole.of(ADMIN)]

    @extend_schema(
        summary="GDPR erasure: remove the person's events, raw messages, traits and identities",
        request=None,
        responses={
            200: inline_serializer(
                "Erasure", {"erasure_id": serializers.IntegerField(), "counts": serializers.DictField()}
            )
        },
    )
    def post(self, request, profile_id: int):
        audit = gdpr.erase_profile(profile_id=profile_id, requested_by=request.user)
        return Response({"erasure_id": audit.pk, "counts": audit.counts})
