"""Django for the web tests: configured here, in a throw-away data folder.

Configuring in this conftest (rather than in pyproject) keeps Django out of the rest of
the suite: only a run that collects tests/web loads it. The app database is pytest-
django's in-memory test database; each test gets its own empty DuckDB event store.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import django
import pytest
from django.conf import settings as django_settings

from deskpulse.events.store import Store
from deskpulse.settings import Settings

_DATA_DIR = Path(tempfile.mkdtemp(prefix="deskpulse-web-tests-"))
atexit.register(shutil.rmtree, _DATA_DIR, True)

if not django_settings.configured:
    from deskpulse.web.conf import build_django_settings

    django_settings.configure(
        **build_django_settings(Settings(data_dir=_DATA_DIR), debug=False, allowed_hosts=["*"])
    )
    django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.test import Client  # noqa: E402

from deskpulse.web.accounts.models import Profile, Role  # noqa: E402
from deskpulse.web.accounts.tokens import create_token  # noqa: E402
from deskpulse.web.runtime import using_store  # noqa: E402
from tests.web.web_helpers import Api  # noqa: E402


@pytest.fixture(autouse=True)
def api_store(duckdb_store: Store) -> Iterator[Store]:
    """The store the API serves in this test (a fresh DuckDB file in tmp_path)."""
    with using_store(duckdb_store):
        yield duckdb_store


def _user(username: str, role: str | None, agent_id: str | None = None) -> User:
    user = User.objects.create_user(username=username, email=f"{username}@example.com")
    if role is not None:
        Profile.objects.create(user=user, role=role, agent_id=agent_id)
    return user


@pytest.fixture
def owner(db: None) -> User:
    return _user("olivia", Role.OWNER)


@pytest.fixture
def admin(db: None) -> User:
    return _user("adam", Role.ADMIN)


@pytest.fixture
def agent(db: None) -> User:
    return _user("alice", Role.AGENT, agent_id="alice")


@pytest.fixture
def outsider(db: None) -> User:
    """A user with an account but no role on the team."""
    return _user("oscar", None)


MakeToken = Callable[..., str]


@pytest.fixture
def make_token(db: None) -> MakeToken:
    def make(user: User | None = None, scopes: tuple[str, ...] = ("ingest",)) -> str:
        _, plaintext = create_token(
            name="test", scopes=scopes, user_email=None if user is None else user.email
        )
        return plaintext

    return make


@pytest.fixture
def ingest_token(owner: User, make_token: MakeToken) -> str:
    return make_token(owner, ("ingest",))


@pytest.fixture
def read_token(owner: User, make_token: MakeToken) -> str:
    return make_token(owner, ("read",))


@pytest.fixture
def api(client: Client, ingest_token: str) -> Api:
    """The API as an integration with an ingest token."""
    return Api(client, ingest_token)


@pytest.fixture
def anonymous(client: Client, db: None) -> Api:
    return Api(client, None)
