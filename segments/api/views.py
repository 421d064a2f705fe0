"""The audiences API (Bearer token; marketer and admin): CRUD, evaluate, job progress, members."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from cxo_site.errors import DomainError, NotFound
from cxo_site.roles import ADMIN, MARKETER, HasRole
from profiles.api.serializers import ProfileOutput
from segments import rules, selectors, services
from segments.models import Audience, AudienceEvaluation

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
        rule = serializers.JSONField()

    def get_queryset(self):
        return selectors.audience_list(search=self.request.query_params.get("q", ""))

    @extend_schema(request=Input, responses={201: AudienceOutput})
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
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
