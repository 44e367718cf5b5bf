from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class LoginForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"), max_length=254)
    password = forms.CharField(label=_("Password"), max_length=200, widget=forms.PasswordInput)


class ThrottledPasswordChangeForm(PasswordChangeForm):
    """The old password is checked through ``authenticate``, so that axes counts a wrong one
    and refuses, unchecked, past the login limits: a stolen session cannot guess the
    password it would need to change it."""

    def __init__(self, user, *args, request=None, **kwargs):
        self.request = request
        self.throttled_for = 0
        super().__init__(user, *args, **kwargs)

    def clean_old_password(self):
        from .throttle import retry_after, throttled_message

        old_password = self.cleaned_data["old_password"]
        checked = authenticate(self.request, username=self.user.email, password=old_password)
        if checked is not None and checked.pk == self.user.pk:
            return old_password
        if getattr(self.request, "axes_locked_out", False):
            self.throttled_for = retry_after(self.request)
            raise ValidationError(throttled_message(self.throttled_for), code="throttled")
        raise ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
