"""The form that sets, rotates or removes a connector's webhook signing secret and its
allow-unsigned flag. The secret field never renders a value back."""

from __future__ import annotations

from typing import Any

from django import forms

from deskpulse.web.connectors.models import Connector
from deskpulse.web.connectors.service import (
    SIGNING_SECRET_MAX,
    SigningSecretError,
    check_signing_secret,
)
from deskpulse.web.form_errors import ReadableErrors


class SigningForm(ReadableErrors, forms.Form):
    errors_about = "Connector"
    wide_fields = ("signing_secret",)

    signing_secret = forms.CharField(
        label="Signing secret",
        required=False,
        # Longer than any secret, so an over-long paste reaches our check and its message.
        max_length=SIGNING_SECRET_MAX * 4,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Copy it from the webhook's page in Chatwoot (Settings → Integrations → "
        "Webhooks). Leave empty to keep the current one. Never shown again.",
    )
    remove_secret = forms.BooleanField(label="Remove the signing secret", required=False)
    allow_unsigned = forms.BooleanField(
        label="Allow unsigned webhooks while no secret is set",
        required=False,
        help_text="Only for Chatwoot before v4.11.2, which cannot sign: anyone who learns "
        "the URL could then send events.",
    )

    def __init__(self, *args: Any, connector: Connector, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"allow_unsigned": connector.allow_unsigned})
        super().__init__(*args, **kwargs)
        self.connector = connector

    def clean_signing_secret(self) -> str:
        value: str = self.cleaned_data.get("signing_secret") or ""
        if not value:
            return ""
        try:
            return check_signing_secret(value)
        except SigningSecretError as error:
            # The message names the problem without echoing the secret.
            raise forms.ValidationError(str(error).removeprefix("signing secret: ")) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("signing_secret") and data.get("remove_secret"):
            self.add_error("remove_secret", "give a new secret or remove it, not both")
        return data
