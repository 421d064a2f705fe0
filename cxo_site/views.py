from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from drf_spectacular.views import SpectacularSwaggerSplitView

from cxo_site import dashboard
from cxo_site.roles import ADMIN, MARKETER, NAVIGATION, ROLES, has_role, role_required


@role_required(*ROLES)
def home(request):
    """The dashboard; htmx polls its live counts every 10 s (the ``counts`` partial)."""
    if request.htmx:
        response = render(request, "home.html#counts", {"counts": dashboard.live_counts()})
    else:
        response = render(
            request,
            "home.html",
            {
                "counts": dashboard.live_counts(),
                "chart": dashboard.events_by_channel(),
                "revenue": dashboard.revenue(),
                "campaigns": dashboard.top_campaigns(),
            },
        )
    patch_vary_headers(response, ["HX-Request"])
    return response


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
