"""The console's destination form."""

import re

from django import forms
from django.apps import apps

from segments.destinations.models import SUBDIR_PATTERN, Destination
from segments.destinations.services import NAMESPACES

SUBDIR = re.compile(SUBDIR_PATTERN)
TRAIT_KEY = re.compile(r"^[\w .:-]{1,100}$")


class DestinationForm(forms.Form):
    audience = forms.ModelChoiceField(queryset=None, empty_label="Choose an audience")
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=Destination.Kind.choices, widget=forms.RadioSelect)
    identity_namespaces = forms.MultipleChoiceField(
        choices=[(ns, ns) for ns in NAMESPACES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        initial=["user_id", "email"],
        label="Identities sent",
    )
    trait_keys = forms.CharField(
        required=False,
        max_length=2000,
        label="Traits sent",
        help_text="Comma-separated trait keys, e.g. loyalty_tier, city. A webhook sends all traits when empty.",
    )
    url = forms.URLField(required=False, max_length=500, label="Webhook URL", assume_scheme="https")
    secret = forms.CharField(
        required=False,
        max_length=100,
        min_length=16,
        help_text="Signing secret (HMAC-SHA256). Leave empty to generate one.",
    )
    batch_size = forms.IntegerField(min_value=1, max_value=1000, initial=100, help_text="Profiles per POST.")
    max_attempts = forms.IntegerField(
        min_value=1, max_value=20, initial=8, help_text="Failed attempts before a delivery is dead-lettered."
    )
    interval_minutes = forms.IntegerField(
        min_value=5, max_value=10080, initial=1440, label="Export every (minutes)"
    )
    output_subdir = forms.CharField(
        required=False,
        max_length=100,
        label="Folder",
        help_text="Optional folder under the export directory, e.g. crm/daily.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["audience"].queryset = apps.get_model("segments", "Audience").objects.order_by("name")

    def clean_trait_keys(self) -> list[str]:
        keys = [key.strip() for key in self.cleaned_data["trait_keys"].split(",") if key.strip()]
        bad = [key for key in keys if not TRAIT_KEY.match(key)]
        if bad:
            raise forms.ValidationError(f"Not a trait key: {', '.join(bad[:3])}.")
        return list(dict.fromkeys(keys))

    def clean_output_subdir(self) -> str:
        value = self.cleaned_data["output_subdir"].strip().strip("/")
        if value and not SUBDIR.match(value):
            raise forms.ValidationError("Use letters, digits, - and _ in folder names, separated by /.")
        return value

    def clean(self):
        data = super().clean()
        if data.get("kind") == Destination.Kind.WEBHOOK:
            url = data.get("url")
            if not url and "url" not in self.errors:
                self.add_error("url", "A webhook needs a URL.")
            elif url and not url.lower().startswith(("http://", "https://")):
                self.add_error("url", "Use an http:// or https:// URL.")
        return data
