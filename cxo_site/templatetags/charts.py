"""Small server-rendered charts: no JavaScript, nothing but numbers in the markup."""

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def sparkline(values, width: int = 120, height: int = 24, label: str = ""):
    """An SVG line of ``values`` (oldest first); an em dash when there are fewer than two."""
    values = [float(v) for v in values or []]
    if len(values) < 2:
        return "—"
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = (width - 2) / (len(values) - 1)
    points = " ".join(
        f"{1 + i * step:.1f},{height - 1 - (v - low) / span * (height - 2):.1f}" for i, v in enumerate(values)
    )
    return format_html(
        '<svg class="sparkline" width="{}" height="{}" viewBox="0 0 {} {}" role="img" aria-label="{}">'
        '<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{}"/></svg>',
        width,
        height,
        width,
        height,
        label or f"from {values[0]:,.0f} to {values[-1]:,.0f}",
        points,
    )
