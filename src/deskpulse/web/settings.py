"""Settings module for DJANGO_SETTINGS_MODULE=deskpulse.web.settings.

The data folder comes from DESKPULSE_DATA (see deskpulse.settings.load_settings); the
values themselves are built in deskpulse.web.conf so setup_django() agrees with this.
"""

from __future__ import annotations

from deskpulse.settings import load_settings
from deskpulse.web.conf import build_django_settings

# Django reads the upper-case names of this module.
globals().update(build_django_settings(load_settings()))
