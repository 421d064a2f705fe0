from django.urls import include, path

from segments import views

app_name = "segments"
urlpatterns = [
    path("", views.audience_list, name="home"),
    path("new/", views.audience_edit, name="create"),
    path("builder/", views.audience_builder, name="builder"),
    path("new-list/", views.list_audience_create, name="create-list"),
    path("<int:pk>/upload/", views.list_upload, name="upload"),
    path("<int:pk>/entered/", views.audience_entered, name="entered"),
    path("overlap/", views.audience_overlap, name="overlap"),
    path("uploads/<int:pk>/unmatched.csv", views.upload_unmatched, name="unmatched"),
    path("<int:pk>/", views.audience_detail, name="detail"),
    path("<int:pk>/edit/", views.audience_edit, name="edit"),
    path("<int:pk>/evaluate/", views.audience_evaluate, name="evaluate"),
    path("jobs/<int:pk>/", views.evaluation_status, name="job"),
    path("destinations/", include("segments.destinations.urls")),
]
