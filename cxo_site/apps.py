from django.apps import AppConfig


class CxoSiteConfig(AppConfig):
    name = "cxo_site"
    verbose_name = "CXO site"
