app_name = "profiles-api"
urlpatterns: list = []
