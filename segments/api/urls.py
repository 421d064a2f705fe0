from django.urls import path

from segments.api import views

app_name = "segments-api"
urlpatterns = [
    path("audiences/", views.AudienceListApi.as_view(), name="audiences"),
    path("audiences/<int:pk>/", views.AudienceDetailApi.as_view(), name="audience"),
    path("audiences/<int:pk>/evaluate/", views.AudienceEvaluateApi.as_view(), name="evaluate"),
    path("audiences/<int:pk>/members/", views.AudienceMembersApi.as_view(), name="members"),
    path("audiences/<int:pk>/list/", views.AudienceListUploadApi.as_view(), name="list-upload"),
    path("audiences/overlap/", views.AudienceOverlapApi.as_view(), name="overlap"),
    path("jobs/<int:pk>/", views.JobApi.as_view(), name="job"),
]
