from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from cxo_site import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    # Collection API (Segment tracking spec): /v1/track, /v1/batch, ...
    path("v1/", include("profiles.collection.urls")),
    # Management API
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", views.api_docs, name="api-docs"),
    path("api/profiles/", include("profiles.api.urls")),
    path("api/segments/", include("segments.api.urls")),
    # Console
    path("profiles/", include("profiles.urls")),
    path("audiences/", include("segments.urls")),
    path("offers/", include("offers.urls")),
    path("journeys/", include("journeys.urls")),
    path("analytics/", include("analytics.urls")),
]
