"""Forms for sign-in and the settings pages. Rules live in people.py / teams.py / tokens.py;
these only collect input and put each refusal under the field it names."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm

from deskpulse.web.accounts.models import Role

WRONG_CREDENTIALS = "Email or password is wrong."


class SignInForm(AuthenticationForm):
    """Email (any case) or username, and password.

    One message for every failure (unknown email, wrong password, deactivated account)
    so the form never tells a stranger which accounts exist.
    """

    username = forms.CharField(
        label="Email or username",
        max_length=254,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "username", "autocapitalize": "none"}
        ),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    error_messages = {  # noqa: RUF012 - Django's own class attribute, replaced not mutated
        **AuthenticationForm.error_messages,
        "invalid_login": WRONG_CREDENTIALS,
        "inactive": WRONG_CREDENTIALS,
    }

    def clean(self) -> dict[str, Any]:
        identifier = (self.cleaned_data.get("username") or "").strip()
        password = self.cleaned_data.get("password")
        if identifier and password:
            # One call, so one failure for login throttling: the backend tries each
            # account the text may name (backends.EmailOrUsernameBackend).
            self.user_cache = authenticate(self.request, username=identifier, password=password)
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


ROLE_CHOICES = [(role.value, role.label) for role in Role]


class AddPersonForm(forms.Form):
    email = forms.EmailField(
        label="Email", max_length=150, widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    name = forms.CharField(
        label="Name",
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(label="Role", choices=ROLE_CHOICES, initial=Role.AGENT)
    agent_id = forms.CharField(
        label="Agent id",
        max_length=256,
        required=False,
        help_text="The agent_id this person has in the events. Required for agents.",
        widget=forms.TextInput(attrs={"list": "known-agents", "autocomplete": "off"}),
    )
    password = forms.CharField(
        label="Password",
        required=False,
        strip=False,
        help_text="Leave empty to generate one; it is shown once.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class EditPersonForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=ROLE_CHOICES)
    agent_id = forms.CharField(label="Agent id", max_length=256, required=False)


class TeamForm(forms.Form):
    team_id = forms.CharField(label="Team id", max_length=256)
    name = forms.CharField(label="Name", max_length=100)


SCOPE_CHOICES = [
    ("read", "read: numbers and reports"),
    ("write", "write: coaching plans, experiments, alert rules, topics"),
    ("ingest", "ingest: send events"),
]


class TokenForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="What will use it, e.g. 'weekly export'.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    scopes = forms.MultipleChoiceField(
        label="Scopes",
        choices=SCOPE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        initial=["read"],
    )

    def __init__(self, *args: Any, allowed: tuple[str, ...] = ("read",), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.allowed = allowed

    @property
    def allowed_choices(self) -> list[tuple[str, str]]:
        return [choice for choice in SCOPE_CHOICES if choice[0] in self.allowed]

    def clean_scopes(self) -> list[str]:
        scopes: list[str] = self.cleaned_data["scopes"]
        # Checked here, not by narrowing the choices, so the refusal says why.
        refused = [scope for scope in scopes if scope not in self.allowed]
        if refused:
            raise forms.ValidationError(
                f"only owners may create {', '.join(refused)} tokens; choose read"
            )
        return scopes
