"""How a form's errors read on a page and in the API, and how its fields lay out, the
same in every app."""

from __future__ import annotations

from typing import Any


class ReadableErrors:
    """Mixed into a Django form (before `forms.Form` or `forms.ModelForm`) so that its
    errors name their field. `errors_about` labels errors that belong to no single field
    ("Experiment: …")."""

    errors_about = "Form"
    # Fields that span the whole row of the settings grid (deskpulse/_form_grid.html).
    wide_fields: tuple[str, ...] = ()
    # Provided by the Django form this is mixed into.
    errors: Any
    fields: Any

    def error_lines(self) -> list[str]:
        """ "Field label: message" for every error, for the page's error list."""
        lines: list[str] = []
        for name, messages in self.errors.items():
            label = self.fields[name].label if name in self.fields else self.errors_about
            lines.extend(f"{label}: {message}" for message in messages)
        return lines

    def first_error(self) -> tuple[str, str]:
        """(field, "field: message") of the first error, for the API's one error shape."""
        name, messages = next(iter(self.errors.items()))
        field = "body" if name == "__all__" else name
        return field, f"{field}: {messages[0]}"
