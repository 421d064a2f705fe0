from django.urls import path

from cxo_site.views import area_not_built

app_name = "profiles"
urlpatterns = [
    path("", area_not_built, {"area": "profiles"}, name="search"),
    path("agent/", area_not_built, {"area": "agent console"}, name="agent"),
    path("sources/", area_not_built, {"area": "sources"}, name="source_list"),
]
