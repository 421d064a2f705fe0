"""Console views of the profiles app: profile search and page, agent console, sources and debugger."""

from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST

from cxo_site.errors import NotFound
from cxo_site.pagination import paginate
from cxo_site.roles import ADMIN, AGENT, MARKETER, ROLES, role_required
from profiles import selectors, sources
from profiles.collection import debugger
from profiles.extensions import profile_sections
from profiles.forms import SourceForm
from profiles.models import CONSENT_KEYS, Source


def _render(request, template: str, partial: str, context: dict):
    response = render(request, f"{template}#{partial}" if request.htmx else template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@role_required(*ROLES)
def profile_search(request):
    query = request.GET.get("q", "").strip()
    page = paginate(selectors.profile_search(query=query), request)
    return _render(request, "profiles/search.html", "results", {"page": page, "q": query})


@role_required(AGENT, ADMIN)
def agent_console(request):
    query = request.GET.get("q", "").strip()
    results = list(selectors.profile_search(query=query)[:10]) if query else []
    if len(results) == 1 and not request.htmx:
        return redirect("profiles:detail", profile_id=results[0].pk)
    return _render(request, "profiles/agent.html", "results", {"results": results, "q": query})


@role_required(*ROLES)
def profile_detail(request, profile_id: int):
    try:
        profile = selectors.profile_detail(profile_id=profile_id)
    except NotFound:
        return render(request, "profiles/not_found.html", {"profile_id": profile_id}, status=404)
    page = paginate(selectors.profile_events(profile=profile), request, per_page=20)
    if request.htmx and request.GET.get("page"):
        return _render(request, "profiles/detail.html", "timeline", {"page": page, "profile": profile})
    consent = [{"key": key, **(profile.consent.get(key) or {})} for key in CONSENT_KEYS]
    return render(
        request,
        "profiles/detail.html",
        {
            "profile": profile,
            "page": page,
            "consent": consent,
            "sections": profile_sections(profile),
            "identities": sorted(profile.identities.all(), key=lambda i: (i.namespace, i.value)),
        },
    )


@role_required(MARKETER, ADMIN)
def source_list(request):
    form = SourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        source = sources.create_source(name=form.cleaned_data["name"])
        messages.success(request, f"Source “{source.name}” created. Send events with its write key.")
        return redirect("profiles:source_detail", source_id=source.pk)
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    rows = Source.objects.annotate(
        raw_today=Count("raw_events", filter=Q(raw_events__received_at__gte=today))
    ).order_by("name")
    return render(
        request,
        "profiles/sources.html",
        {"page": paginate(rows, request), "form": form},
        status=400 if form.errors else 200,
    )


@role_required(MARKETER, ADMIN)
def source_detail(request, source_id: int):
    source = get_object_or_404(Source, pk=source_id)
    return render(
        request, "profiles/source_detail.html", {"source": source, "entries": debugger.recent(source.pk)}
    )


@role_required(MARKETER, ADMIN)
def source_debugger(request, source_id: int):
    source = get_object_or_404(Source, pk=source_id)
    return _render(
        request,
        "profiles/source_detail.html",
        "debugger",
        {"source": source, "entries": debugger.recent(source.pk)},
    )


@require_POST
@role_required(ADMIN, MARKETER)
def source_rotate_key(request, source_id: int):
    source = get_object_or_404(Source, pk=source_id)
    sources.rotate_write_key(source=source)
    messages.success(request, "The write key was rotated. The old key no longer works: update your SDKs.")
    return redirect("profiles:source_detail", source_id=source.pk)
