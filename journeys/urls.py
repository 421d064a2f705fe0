from django.urls import path

from cxo_site.views import area_not_built

app_name = "journeys"
urlpatterns = [path("", area_not_built, {"area": "journeys"}, name="home")]
