"""The event store of this process: one, opened on first use, closed at exit."""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from deskpulse.events.store import Store, open_store
from deskpulse.settings import Settings

_lock = threading.Lock()
_store: Store | None = None


def install_settings() -> Settings:
    """The deskpulse settings Django was configured with (load_settings() as a fallback)."""
    from django.conf import settings as django_settings

    configured: Settings | None = getattr(django_settings, "DESKPULSE_SETTINGS", None)
    if configured is not None:
        return configured
    from deskpulse.settings import load_settings

    return load_settings()


def get_store() -> Store:
    """The process-wide store. Opened lazily: a forking server opens it in the worker,
    never in the parent, so no DuckDB handle is shared across a fork."""
    global _store
    if _store is None:
        with _lock:
            if _store is None:
                _store = open_store(install_settings())
    return _store


def store_with_facts() -> Store:
    """The store, with fact tables to query even before the first event arrives."""
    from deskpulse.facts.build import facts_exist, refresh_facts

    store = get_store()
    if not facts_exist(store):
        # A fresh install has no fact tables until its first refresh; building the empty
        # tables lets pages and queries answer "no data" (n = 0) instead of failing.
        with _lock:
            if not facts_exist(store):
                refresh_facts(store)
    return store


def close_store() -> None:
    global _store
    with _lock:
        if _store is not None:
            try:
                _store.close()
            finally:
                _store = None


@contextmanager
def using_store(store: Store) -> Iterator[Store]:
    """Serve requests from `store` for the duration (tests); the caller owns it."""
    global _store
    with _lock:
        previous, _store = _store, store
    try:
        yield store
    finally:
        with _lock:
            _store = previous


atexit.register(close_store)
