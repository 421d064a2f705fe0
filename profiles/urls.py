from django.urls import path

from profiles import views

app_name = "profiles"
urlpatterns = [
    path("", views.profile_search, name="search"),
    path("<int:profile_id>/", views.profile_detail, name="detail"),
    path("agent/", views.agent_console, name="agent"),
    path("sources/", views.source_list, name="source_list"),
    path("sources/<int:source_id>/", views.source_detail, name="source_detail"),
    path("sources/<int:source_id>/debugger/", views.source_debugger, name="source_debugger"),
    path("sources/<int:source_id>/rotate/", views.source_rotate_key, name="source_rotate_key"),
]
