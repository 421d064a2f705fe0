from django import forms

from profiles.models import Source


class SourceForm(forms.Form):
    name = forms.CharField(
        max_length=200, help_text="Where the events come from, e.g. “Luma web” or “Store POS”."
    )

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the source a name.")
        if Source.objects.filter(name__iexact=name).exists():
            raise forms.ValidationError("A source with this name already exists.")
        return name
