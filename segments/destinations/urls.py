from django.urls import path

from segments.destinations import views

app_name = "destinations"
urlpatterns = [
    path("", views.destination_list, name="list"),
    path("new/", views.destination_create, name="create"),
    path("<int:pk>/", views.destination_detail, name="detail"),
    path("<int:pk>/test/", views.destination_send_test, name="send_test"),
    path("<int:pk>/run/", views.destination_run_now, name="run_now"),
    path("<int:pk>/toggle/", views.destination_toggle, name="toggle"),
    path("deliveries/<uuid:delivery_id>/", views.delivery_detail, name="delivery"),
    path("deliveries/<uuid:delivery_id>/redeliver/", views.delivery_redeliver, name="redeliver"),
]
