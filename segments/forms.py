import json

from django import forms
from django.conf import settings

from segments import rules
from segments.models import Audience, AudienceListUpload


def unique_name(name: str, *, instance: Audience | None = None) -> str:
    """The name, trimmed, unless another audience has it (ignoring case)."""
    name = name.strip()
    others = Audience.objects.filter(name__iexact=name)
    if instance:
        others = others.exclude(pk=instance.pk)
    if others.exists():
        raise forms.ValidationError("An audience with this name already exists.")
    return name


class AudienceForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    rule = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}),
        help_text="A rule in JSON; see docs/rules.md for the language and examples.",
    )

    def __init__(self, *args, instance: Audience | None = None, **kwargs):
        self.instance = instance
        super().__init__(*args, **kwargs)

    def clean_name(self):
        return unique_name(self.cleaned_data["name"], instance=self.instance)

    def clean_rule(self):
        try:
            rule = json.loads(self.cleaned_data["rule"])
        except json.JSONDecodeError as error:
            raise forms.ValidationError(f"Not valid JSON: {error}") from error
        try:
            rules.validate(rule)
        except rules.RuleError as error:
            raise forms.ValidationError(
                [f"{e['path'] or 'rule'}: {e['message']}" for e in error.errors]
            ) from error
        return rule


class ListUploadForm(forms.Form):
    file = forms.FileField(
        help_text="CSV whose first row names identity columns: user_id, email, phone, anonymous_id."
    )
    mode = forms.ChoiceField(
        choices=AudienceListUpload.Mode.choices,
        initial=AudienceListUpload.Mode.REPLACE,
        widget=forms.RadioSelect,
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        # Read no more than one byte past the limit; lists.read_rows judges size and content.
        self.data_bytes = upload.read(settings.CXO_LIST_UPLOAD_MAX_BYTES + 1)
        return upload


class ListAudienceForm(ListUploadForm):
    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    field_order = ["name", "description", "file"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["mode"]

    def clean_name(self):
        return unique_name(self.cleaned_data["name"])


class OverlapForm(forms.Form):
    a = forms.ModelChoiceField(queryset=Audience.objects.order_by("name"), label="Audience")
    b = forms.ModelChoiceField(queryset=Audience.objects.order_by("name"), label="and audience")

    def clean(self):
        data = super().clean()
        if data.get("a") and data.get("a") == data.get("b"):
            raise forms.ValidationError("Pick two different audiences.")
        return data
