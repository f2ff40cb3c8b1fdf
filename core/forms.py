from django import forms
from django.utils.translation import gettext_lazy as _

from core.models import NotificationKind, User
from core.preferences import email_kinds_of, email_off_for


class ProfileForm(forms.ModelForm):
    # Asked the positive way round; stored as the kinds turned off (User.email_off).
    email_kinds = forms.MultipleChoiceField(
        label=_("Email me when…"),
        choices=NotificationKind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("You always see notifications on the site."),
    )

    class Meta:
        model = User
        fields = ["display_name", "email", "preferred_language", "nickname", "show_nickname"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email_kinds"].initial = email_kinds_of(self.instance)

    def save(self, commit: bool = True) -> User:
        self.instance.email_off = email_off_for(self.cleaned_data["email_kinds"])
        return super().save(commit=commit)


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("Where you will use it, e.g. “my laptop” or “Colab”: the list below shows it."),
    )
