from django.urls import path

from cxo_site.views import area_not_built

app_name = "offers"
urlpatterns = [path("", area_not_built, {"area": "offers"}, name="home")]
