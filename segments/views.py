"""Console views of audiences: list, create/edit with a rule and its description, members, evaluation."""

import json

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from cxo_site.pagination import paginate
from cxo_site.roles import ADMIN, MARKETER, role_required
from segments import rules, selectors, services
from segments.forms import AudienceForm
from segments.models import Audience, AudienceEvaluation


@role_required(MARKETER, ADMIN)
def audience_list(request):
    query = request.GET.get("q", "").strip()
    page = paginate(selectors.audience_list(search=query), request)
    return render(request, "segments/audience_list.html", {"page": page, "q": query})


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
    return render(
        request,
        "segments/audience_form.html",
        {"form": form, "audience": audience},
        status=400 if form.errors else 200,
    )


@role_required(MARKETER, ADMIN)
def audience_detail(request, pk: int):
    audience = get_object_or_404(Audience, pk=pk)
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
        },
    )


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
