from django.urls import include, path

from segments import views

app_name = "segments"
urlpatterns = [
    path("", views.audience_list, name="home"),
    path("new/", views.audience_edit, name="create"),
    path("builder/", views.audience_builder, name="builder"),
    path("<int:pk>/", views.audience_detail, name="detail"),
    path("<int:pk>/edit/", views.audience_edit, name="edit"),
    path("<int:pk>/evaluate/", views.audience_evaluate, name="evaluate"),
    path("jobs/<int:pk>/", views.evaluation_status, name="job"),
    path("destinations/", include("segments.destinations.urls")),
]
