"""The subscription forms: subscribing, and choosing one's categories."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from blog.models import Category


def categories_field() -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(
        label=_("Only posts in these categories"),
        queryset=Category.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave them all unticked to get every new post."),
    )


class SubscribeForm(forms.Form):
    email = forms.EmailField(
        label=_("Your email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "required": _("Please give the email address to send new posts to."),
            "invalid": _("This does not look like an email address; please check it."),
        },
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["categories"] = categories_field()


class CategoriesForm(forms.Form):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["categories"] = categories_field()
