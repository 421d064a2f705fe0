from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from drf_spectacular.views import SpectacularSwaggerSplitView

from cxo_site.roles import ADMIN, MARKETER, NAVIGATION, ROLES, has_role, role_required


@role_required(*ROLES)
def home(request):
    return render(request, "home.html", {})


@login_required
def area_not_built(request, area: str):
    """The page of an area whose issue has not landed; the same role rules as the finished area."""
    view_name = request.resolver_match.view_name
    allowed = next((roles for _, name, roles, _ in NAVIGATION if name == view_name), ROLES)
    if not has_role(request.user, *allowed):
        raise PermissionDenied("Your role does not give access to this page.")
    return render(request, "area_not_built.html", {"area": area})


# Swagger UI from drf-spectacular-sidecar's static files (no CDN); the split view serves its
# initialisation script as a file, so the page needs no inline script.
api_docs = role_required(MARKETER, ADMIN)(SpectacularSwaggerSplitView.as_view(url_name="api-schema"))


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
