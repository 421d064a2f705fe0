"""One paginator for every console list."""

from django.core.paginator import Page, Paginator


def paginate(queryset, request, *, per_page: int = 25) -> Page:
    """The requested page of ``queryset`` (``?page=N``); out-of-range pages give the last one."""
    paginator = Paginator(queryset, per_page)
    return paginator.get_page(request.GET.get("page"))
