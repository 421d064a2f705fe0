"""Content-Security-Policy: scripts and styles only from our own ``static/``."""

from django.conf import settings

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith(("/v1/", "/api/docs")) and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = getattr(settings, "CXO_CSP", POLICY)
        return response
