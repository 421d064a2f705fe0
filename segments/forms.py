import json

from django import forms
from django.conf import settings

from segments import lists, rules
from segments.models import Audience, AudienceListUpload


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
        name = self.cleaned_data["name"].strip()
        others = Audience.objects.filter(name__iexact=name)
        if self.instance:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError("An audience with this name already exists.")
        return name

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
        limit = settings.CXO_LIST_UPLOAD_MAX_BYTES
        data = upload.read(limit + 1)
        try:
            lists.read_rows(data)
        except lists.ListError as error:
            raise forms.ValidationError(error.message) from error
        self.data_bytes = data
        return upload


class ListAudienceForm(ListUploadForm):
    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    field_order = ["name", "description", "file"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["mode"]

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if Audience.objects.filter(name__iexact=name).exists():
            raise forms.ValidationError("An audience with this name already exists.")
        return name


class OverlapForm(forms.Form):
    a = forms.ModelChoiceField(queryset=Audience.objects.order_by("name"), label="Audience")
    b = forms.ModelChoiceField(queryset=Audience.objects.order_by("name"), label="and audience")

    def clean(self):
        data = super().clean()
        if data.get("a") and data.get("a") == data.get("b"):
            raise forms.ValidationError("Pick two different audiences.")
        return data
