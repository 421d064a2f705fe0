from django.urls import path

from profiles.collection import views

app_name = "collection"
KINDS = ("track", "identify", "page", "screen", "alias", "group", "batch")
SHORT = {"t": "track", "i": "identify", "p": "page", "s": "screen", "a": "alias", "g": "group", "b": "batch"}

urlpatterns = [path(kind, views.collect, {"kind": kind}, name=kind) for kind in KINDS] + [
    path(short, views.collect, {"kind": kind}) for short, kind in SHORT.items()
]
