from django.urls import path

from profiles.api import views

app_name = "profiles-api"
urlpatterns = [
    path("lookup/", views.ProfileLookupApi.as_view(), name="lookup"),
    path("<int:profile_id>/", views.ProfileDetailApi.as_view(), name="detail"),
    path("<int:profile_id>/events/", views.ProfileEventsApi.as_view(), name="events"),
    path("<int:profile_id>/export/", views.ProfileExportApi.as_view(), name="export"),
    path("<int:profile_id>/erase/", views.ProfileEraseApi.as_view(), name="erase"),
]
