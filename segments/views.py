"""Console views of audiences: list, create/edit with a rule and its description, members, evaluation."""

import json

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from cxo_site.pagination import paginate
from cxo_site.roles import ADMIN, MARKETER, role_required
from profiles.models import Profile
from segments import builder, lists, rules, selectors, services
from segments.forms import AudienceForm, ListAudienceForm, ListUploadForm, OverlapForm
from segments.models import Audience, AudienceEvaluation, AudienceListUpload


@role_required(MARKETER, ADMIN)
def audience_list(request):
    query = request.GET.get("q", "").strip()
    page = paginate(selectors.audience_list(search=query), request)
    trends = selectors.size_trends(page.object_list)
    rows = [(audience, trends.get(audience.pk, [])) for audience in page]
    return render(request, "segments/audience_list.html", {"page": page, "rows": rows, "q": query})


@role_required(MARKETER, ADMIN)
def audience_edit(request, pk: int | None = None):
    audience = get_object_or_404(Audience, pk=pk) if pk else None
    initial = (
        {
            "name": audience.name,
            "description": audience.description,
            "rule": json.dumps(audience.rule, indent=2),
        }
        if audience
        else {}
    )
    form = AudienceForm(request.POST or None, instance=audience, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if audience:
            services.update_audience(audience=audience, **data)
        else:
            audience = services.create_audience(created_by=request.user, **data)
        messages.success(request, f"Audience “{audience.name}” saved; its members are being evaluated.")
        return redirect("segments:detail", pk=audience.pk)
    if request.method == "POST":
        rule, _ = _parse_rule(request.POST.get("rule", ""))
    else:
        rule = audience.rule if audience and audience.rule else DEFAULT_RULE
    return render(
        request,
        "segments/audience_form.html",
        {"form": form, "audience": audience, **_builder_context(rule, audience=audience)},
        status=400 if form.errors else 200,
    )


DEFAULT_RULE = {"type": "and", "conditions": [{"type": "event", "op": "did", "event": ""}]}


def _parse_rule(text: str) -> tuple[dict, str]:
    try:
        rule = json.loads(text) if text.strip() else dict(DEFAULT_RULE)
    except json.JSONDecodeError as error:
        return dict(DEFAULT_RULE), f"Not valid JSON: {error}"
    if not isinstance(rule, dict):
        return dict(DEFAULT_RULE), "A rule is a JSON object with a type."
    return rule, ""


def _builder_context(rule: dict, *, audience: Audience | None = None, error: str = "") -> dict:
    errors = builder.problems(rule)
    traits = builder.trait_paths()
    others = Audience.objects.order_by("name").values_list("pk", "name")
    return {
        "rule": rule,
        "rule_json": json.dumps(rule),
        "rule_pretty": json.dumps(rule, indent=2),
        "tree": builder.view_tree(rule, errors, traits=traits, properties=builder.property_paths),
        "problems": errors,
        "edit_error": error,
        "description": "" if errors else rules.describe(rule),
        "estimate": None if errors else builder.estimate(rule),
        "total_profiles": Profile.objects.count() if not errors else None,
        "event_names": builder.event_names(),
        "trait_names": list(traits),
        "audience_choices": [(pk, name) for pk, name in others if not audience or pk != audience.pk],
        "score_models": rules.score_models(),
        "comparisons": builder.COMPARISONS,
        "count_ops": builder.COUNT_OPS,
        "aggregate_ops": builder.AGGREGATE_OPS,
        "score_ops": builder.SCORE_OPS,
        "purposes": builder.PURPOSES,
        "kinds": builder.KINDS.items(),
        "audience": audience,
    }


@require_POST
@role_required(MARKETER, ADMIN)
def audience_builder(request):
    """One edit of the rule builder: returns the re-rendered builder (tree, words, size, problems)."""
    rule, error = _parse_rule(request.POST.get("rule", ""))
    action = request.POST.get("action", "")
    if action == "load":
        loaded, error = _parse_rule(request.POST.get("rule_json", ""))
        rule = rule if error else loaded
    elif action and not error:
        try:
            rule = builder.apply_edit(rule, request.POST)
        except builder.EditError as problem:
            error = str(problem)
    audience_id = request.POST.get("audience", "")
    audience = Audience.objects.filter(pk=audience_id).first() if audience_id.isdigit() else None
    return render(
        request,
        "segments/builder.html#builder",
        _builder_context(rule, audience=audience, error=error),
    )


@role_required(MARKETER, ADMIN)
def audience_detail(request, pk: int):
    audience = get_object_or_404(Audience, pk=pk)
    return _detail(request, audience, ListUploadForm() if audience.kind == Audience.Kind.LIST else None)


def _detail(request, audience: Audience, upload_form, *, status: int = 200):
    query = request.GET.get("q", "").strip()
    page = paginate(
        selectors.audience_members(audience=audience, search=query).prefetch_related("identities"), request
    )
    job = audience.evaluations.order_by("-created_at").first()
    description = rules.describe(audience.rule) if audience.rule else "An uploaded list."
    return render(
        request,
        "segments/audience_detail.html",
        {
            "audience": audience,
            "page": page,
            "q": query,
            "job": job,
            "description": description,
            "changes": selectors.recent_changes(audience=audience),
            "upload_form": upload_form,
            "uploads": audience.uploads.select_related("uploaded_by")[:10],
            "trend": selectors.size_trend(audience=audience),
            "entered_week": selectors.entered_since(audience=audience, days=7).count(),
        },
        status=status,
    )


@role_required(MARKETER, ADMIN)
def list_audience_create(request):
    form = ListAudienceForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                audience = services.create_audience(
                    name=data["name"],
                    kind=Audience.Kind.LIST,
                    description=data["description"],
                    created_by=request.user,
                )
                upload = lists.upload_list(
                    audience=audience,
                    data=form.data_bytes,
                    filename=data["file"].name,
                    uploaded_by=request.user,
                )
        except lists.ListError as error:
            form.add_error("file", error.message)
        else:
            messages.success(request, _upload_message(upload))
            return redirect("segments:detail", pk=audience.pk)
    return render(request, "segments/list_form.html", {"form": form}, status=400 if form.errors else 200)


@require_POST
@role_required(MARKETER, ADMIN)
def list_upload(request, pk: int):
    audience = get_object_or_404(Audience, pk=pk, kind=Audience.Kind.LIST)
    form = ListUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _detail(request, audience, form, status=400)
    try:
        upload = lists.upload_list(
            audience=audience,
            data=form.data_bytes,
            filename=form.cleaned_data["file"].name,
            mode=form.cleaned_data["mode"],
            uploaded_by=request.user,
        )
    except lists.ListError as error:
        form.add_error("file", error.message)
        return _detail(request, audience, form, status=400)
    messages.success(request, _upload_message(upload))
    return redirect("segments:detail", pk=audience.pk)


def _upload_message(upload: AudienceListUpload) -> str:
    return (
        f"{upload.rows} rows: {upload.matched_rows} matched {upload.matched_profiles} profiles, "
        f"{upload.unmatched_count} did not match; {upload.entered} entered, {upload.exited} left."
    )


@role_required(MARKETER, ADMIN)
def upload_unmatched(request, pk: int):
    upload = get_object_or_404(AudienceListUpload, pk=pk)
    response = HttpResponse(lists.unmatched_csv(upload), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="unmatched-{upload.pk}.csv"'
    return response


@require_POST
@role_required(MARKETER, ADMIN)
def audience_evaluate(request, pk: int):
    audience = get_object_or_404(Audience, pk=pk)
    services.start_evaluation(audience=audience)
    messages.success(request, "Evaluation started.")
    return redirect("segments:detail", pk=audience.pk)


@role_required(MARKETER, ADMIN)
def evaluation_status(request, pk: int):
    job = get_object_or_404(AudienceEvaluation, pk=pk)
    return render(request, "segments/audience_detail.html#job", {"job": job, "audience": job.audience})


@role_required(MARKETER, ADMIN)
def audience_entered(request, pk: int):
    """Who entered the audience in the last N days (7 by default), newest first."""
    audience = get_object_or_404(Audience, pk=pk)
    try:
        days = min(max(int(request.GET.get("days", 7)), 1), 365)
    except ValueError:
        days = 7
    page = paginate(selectors.entered_since(audience=audience, days=days), request)
    return render(
        request, "segments/audience_entered.html", {"audience": audience, "page": page, "days": days}
    )


@role_required(MARKETER, ADMIN)
def audience_overlap(request):
    form = OverlapForm(request.GET or None)
    context = {"form": form}
    if form.is_valid():
        first, second = form.cleaned_data["a"], form.cleaned_data["b"]
        context.update(
            first=first,
            second=second,
            counts=selectors.overlap(first=first, second=second),
            page=paginate(
                selectors.members_of_both(first=first, second=second).prefetch_related("identities"), request
            ),
        )
    return render(request, "segments/overlap.html", context, status=400 if form.errors else 200)
