"""Console pages of destinations (marketer, admin): list, create, detail, test, run now, redeliver."""

import json

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from cxo_site.errors import DomainError
from cxo_site.pagination import paginate
from cxo_site.roles import ADMIN, MARKETER, role_required
from segments.destinations import export, selectors, services
from segments.destinations.forms import DestinationForm
from segments.destinations.models import Delivery, Destination


def _audience_filter(request) -> int | None:
    value = request.GET.get("audience", "")
    return int(value) if value.isdigit() else None


@role_required(MARKETER, ADMIN)
@vary_on_headers("HX-Request")
def destination_list(request):
    audience_id = _audience_filter(request)
    page = paginate(selectors.destination_list(audience_id=audience_id), request)
    template = "segments/destinations/list.html"
    if request.htmx:
        template += "#rows"
    return render(request, template, {"page": page, "audience_id": audience_id})


@role_required(MARKETER, ADMIN)
def destination_create(request):
    if request.method == "POST":
        form = DestinationForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                destination = services.create_destination(
                    audience_id=data["audience"].pk,
                    name=data["name"],
                    kind=data["kind"],
                    created_by=request.user,
                    url=data.get("url") or "",
                    secret=data.get("secret") or "",
                    batch_size=data["batch_size"],
                    max_attempts=data["max_attempts"],
                    interval_minutes=data["interval_minutes"],
                    output_subdir=data.get("output_subdir") or "",
                    identity_namespaces=data["identity_namespaces"],
                    trait_keys=data["trait_keys"],
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, f"Destination “{destination.name}” created.")
                return redirect("segments:destinations:detail", pk=destination.pk)
    else:
        audience_id = _audience_filter(request)
        form = DestinationForm(initial={"audience": audience_id, "kind": Destination.Kind.WEBHOOK})
    return render(request, "segments/destinations/form.html", {"form": form})


@role_required(MARKETER, ADMIN)
@vary_on_headers("HX-Request")
def destination_detail(request, pk: int):
    destination = get_object_or_404(Destination.objects.select_related("audience", "created_by"), pk=pk)
    failed_only = request.GET.get("show") == "failures"
    if destination.kind == Destination.Kind.WEBHOOK:
        rows = selectors.destination_deliveries(destination=destination, failed_only=failed_only)
    else:
        rows = selectors.destination_runs(destination=destination)
    page = paginate(rows, request)
    template = "segments/destinations/detail.html"
    if request.htmx:
        template += "#activity"
    context = {
        "destination": destination,
        "page": page,
        "failed_only": failed_only,
        "export_dir": export.export_root(),
    }
    return render(request, template, context)


@role_required(MARKETER, ADMIN)
def delivery_detail(request, delivery_id):
    delivery = get_object_or_404(Delivery.objects.select_related("destination__audience"), pk=delivery_id)
    try:
        pretty = json.dumps(json.loads(delivery.body), indent=2, ensure_ascii=False)
    except ValueError:
        pretty = delivery.body
    context = {"delivery": delivery, "body": pretty, "attempts": delivery.attempt_log.order_by("number")}
    return render(request, "segments/destinations/delivery.html", context)


def _act(request, action, success: str):
    try:
        action()
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)


@require_POST
@role_required(MARKETER, ADMIN)
def destination_send_test(request, pk: int):
    destination = get_object_or_404(Destination, pk=pk)
    _act(request, lambda: services.send_test(destination_id=pk), "Test delivery queued; it appears below.")
    return redirect("segments:destinations:detail", pk=destination.pk)


@require_POST
@role_required(MARKETER, ADMIN)
def destination_run_now(request, pk: int):
    destination = get_object_or_404(Destination, pk=pk)
    _act(request, lambda: services.start_export(destination_id=pk), "Export started; its run appears below.")
    return redirect("segments:destinations:detail", pk=destination.pk)


@require_POST
@role_required(MARKETER, ADMIN)
def destination_toggle(request, pk: int):
    destination = get_object_or_404(Destination, pk=pk)
    resume = not destination.is_active
    _act(
        request,
        lambda: services.set_active(destination_id=pk, is_active=resume),
        "Destination resumed." if resume else "Destination paused: nothing is sent until it is resumed.",
    )
    return redirect("segments:destinations:detail", pk=destination.pk)


@require_POST
@role_required(MARKETER, ADMIN)
def delivery_redeliver(request, delivery_id):
    delivery = get_object_or_404(Delivery, pk=delivery_id)
    _act(
        request,
        lambda: services.redeliver(delivery_id=delivery.pk),
        "Delivery queued again with the same id and body.",
    )
    return redirect("segments:destinations:delivery", delivery_id=delivery.pk)
