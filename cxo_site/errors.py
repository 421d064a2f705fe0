"""Domain errors and the one place that maps them (and DRF's) to 4xx JSON.

A domain error carries a stable snake_case ``code`` that clients switch on and
a ``message`` that people read; ``field`` names the offending input field.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class DomainError(Exception):
    code = "invalid"
    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code

    def as_dict(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        return body


class NotFound(DomainError):
    code = "not_found"
    status_code = status.HTTP_404_NOT_FOUND


class Conflict(DomainError):
    code = "conflict"
    status_code = status.HTTP_409_CONFLICT


def api_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        body = exc.as_dict()
        if exc.field:
            body["errors"] = {exc.field: [exc.message]}
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response({"code": "invalid", "message": "Invalid input.", "errors": errors}, status=400)
    response = exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "code" not in response.data:
        data = response.data
        if isinstance(exc, Http404) or response.status_code == 404:
            response.data = {"code": "not_found", "message": str(data.get("detail", "Not found."))}
        elif "detail" in data:
            code = getattr(data["detail"], "code", "error")
            response.data = {"code": code, "message": str(data["detail"])}
        else:
            response.data = {"code": "invalid", "message": "Invalid input.", "errors": data}
    return response
