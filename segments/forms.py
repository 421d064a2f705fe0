import json

from django import forms

from segments import rules
from segments.models import Audience


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
