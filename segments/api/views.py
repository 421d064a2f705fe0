"""The audiences API (Bearer token; marketer and admin): CRUD, evaluate, job progress, members."""

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from cxo_site.errors import DomainError, NotFound
from cxo_site.roles import ADMIN, MARKETER, HasRole
from profiles.api.serializers import ProfileOutput
from segments import lists, rules, selectors, services
from segments.models import Audience, AudienceEvaluation, AudienceListUpload

MARKETERS = HasRole.of(MARKETER, ADMIN)


class AudienceOutput(serializers.ModelSerializer):
    description_in_words = serializers.SerializerMethodField()

    class Meta:
        model = Audience
        fields = [
            "id",
            "name",
            "description",
            "kind",
            "rule",
            "size",
            "is_active",
            "last_evaluated_at",
            "created_at",
            "updated_at",
            "description_in_words",
        ]

    def get_description_in_words(self, audience) -> str:
        return rules.describe(audience.rule) if audience.rule else ""


class JobOutput(serializers.ModelSerializer):
    class Meta:
        model = AudienceEvaluation
        fields = [
            "id",
            "audience",
            "status",
            "progress",
            "entered",
            "exited",
            "still_in",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]


def _audience(pk: int) -> Audience:
    audience = Audience.objects.filter(pk=pk).first()
    if audience is None:
        raise NotFound("No audience with that id.")
    return audience


def _validate_rule(rule) -> None:
    try:
        rules.validate(rule)
    except rules.RuleError as error:
        raise serializers.ValidationError(
            {f"rule.{e['path']}" if e["path"] else "rule": [e["message"]] for e in error.errors}
        ) from error


class AudienceListApi(ListAPIView):
    permission_classes = [MARKETERS]
    serializer_class = AudienceOutput

    class Input(serializers.Serializer):
        name = serializers.CharField(max_length=200)
        description = serializers.CharField(required=False, allow_blank=True, default="")
        kind = serializers.ChoiceField(
            choices=[Audience.Kind.RULE, Audience.Kind.LIST],
            default=Audience.Kind.RULE,
            help_text="rule (give a rule) or list (members come from uploaded CSV lists)",
        )
        rule = serializers.JSONField(required=False)

        def validate(self, data):
            if data["kind"] == Audience.Kind.RULE and "rule" not in data:
                raise serializers.ValidationError({"rule": ["A rule audience needs a rule."]})
            if data["kind"] == Audience.Kind.LIST and data.get("rule"):
                raise serializers.ValidationError({"rule": ["A list audience has no rule."]})
            return data

    def get_queryset(self):
        return selectors.audience_list(search=self.request.query_params.get("q", ""))

    @extend_schema(request=Input, responses={201: AudienceOutput})
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["kind"] == Audience.Kind.RULE:
            _validate_rule(data.validated_data["rule"])
        audience = services.create_audience(created_by=request.user, **data.validated_data)
        return Response(AudienceOutput(audience).data, status=status.HTTP_201_CREATED)


class AudienceDetailApi(APIView):
    permission_classes = [MARKETERS]

    class Input(serializers.Serializer):
        name = serializers.CharField(max_length=200, required=False)
        description = serializers.CharField(required=False, allow_blank=True)
        rule = serializers.JSONField(required=False)
        is_active = serializers.BooleanField(required=False)

    @extend_schema(responses={200: AudienceOutput})
    def get(self, request, pk: int):
        return Response(AudienceOutput(_audience(pk)).data)

    @extend_schema(request=Input, responses={200: AudienceOutput})
    def patch(self, request, pk: int):
        audience = _audience(pk)
        data = self.Input(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        if "rule" in data.validated_data:
            _validate_rule(data.validated_data["rule"])
        name = data.validated_data.get("name")
        if name and Audience.objects.filter(name__iexact=name).exclude(pk=pk).exists():
            raise DomainError(
                "An audience with this name already exists.", field="name", code="audience_exists"
            )
        return Response(
            AudienceOutput(services.update_audience(audience=audience, **data.validated_data)).data
        )

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        services.delete_audience(audience=_audience(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class AudienceEvaluateApi(APIView):
    permission_classes = [MARKETERS]

    @extend_schema(
        request=None,
        responses={202: inline_serializer("EvaluationStarted", {"job_id": serializers.IntegerField()})},
    )
    def post(self, request, pk: int):
        job = services.start_evaluation(audience=_audience(pk))
        return Response({"job_id": job.pk}, status=status.HTTP_202_ACCEPTED)


class JobApi(APIView):
    permission_classes = [MARKETERS]

    @extend_schema(responses={200: JobOutput})
    def get(self, request, pk: int):
        job = AudienceEvaluation.objects.filter(pk=pk).first()
        if job is None:
            raise NotFound("No evaluation job with that id.")
        return Response(JobOutput(job).data)


class AudienceMembersApi(ListAPIView):
    permission_classes = [MARKETERS]
    serializer_class = ProfileOutput

    def get_queryset(self):
        audience = _audience(self.kwargs["pk"])
        return selectors.audience_members(
            audience=audience, search=self.request.query_params.get("q", "")
        ).prefetch_related("identities")


class UploadOutput(serializers.ModelSerializer):
    unmatched = serializers.ListField(
        child=serializers.DictField(), help_text="[{row, values, reason}] (the first 10,000)"
    )

    class Meta:
        model = AudienceListUpload
        fields = [
            "id",
            "audience",
            "uploaded_at",
            "filename",
            "mode",
            "columns",
            "rows",
            "matched_rows",
            "matched_profiles",
            "unmatched_count",
            "entered",
            "exited",
            "unmatched",
        ]


class AudienceListUploadApi(APIView):
    """Upload a CSV of identities into a list audience (multipart ``file``, optional ``mode``)."""

    permission_classes = [MARKETERS]
    parser_classes = [MultiPartParser, FormParser]

    class UploadInput(serializers.Serializer):
        file = serializers.FileField(
            help_text="CSV; its first row names user_id, email, phone or anonymous_id"
        )
        mode = serializers.ChoiceField(choices=AudienceListUpload.Mode.values, default="replace")

    @extend_schema(request={"multipart/form-data": UploadInput}, responses={200: UploadOutput})
    def post(self, request, pk: int):
        audience = _audience(pk)
        data = self.UploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        report = lists.upload_list(
            audience=audience,
            data=upload.read(settings.CXO_LIST_UPLOAD_MAX_BYTES + 1),
            filename=upload.name,
            mode=data.validated_data["mode"],
            uploaded_by=request.user,
        )
        return Response(UploadOutput(report).data)


class AudienceOverlapApi(APIView):
    permission_classes = [MARKETERS]

    @extend_schema(
        parameters=[
            OpenApiParameter("a", int, required=True, description="an audience id"),
            OpenApiParameter("b", int, required=True, description="another audience id"),
        ],
        responses={
            200: inline_serializer(
                "AudienceOverlap",
                {
                    name: serializers.IntegerField()
                    for name in ("first", "second", "both", "first_only", "second_only", "union")
                }
                | {"jaccard": serializers.FloatField()},
            )
        },
    )
    def get(self, request):
        found = {}
        for key in ("a", "b"):
            value = request.query_params.get(key, "")
            if not value.isdigit():
                raise DomainError(f"{key} must be an audience id.", field=key)
            found[key] = _audience(int(value))
        if found["a"] == found["b"]:
            raise DomainError("Pick two different audiences.", field="b")
        return Response(selectors.overlap(first=found["a"], second=found["b"]))
