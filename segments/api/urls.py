app_name = "segments-api"
urlpatterns: list = []
