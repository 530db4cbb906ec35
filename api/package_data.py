"""Folders shipped inside the ``api`` package: ``_migrations`` (Alembic) and ``_web`` (the map).

A wheel holds them as package data (``pyproject.toml`` lists what goes in). In a checkout,
``api/_migrations`` and ``api/_web`` are symbolic links to the top-level ``migrations/`` and
``web/``, so an editable install reads the working files through the same names.
"""

from contextlib import ExitStack
from functools import cache
from importlib.resources import as_file, files
from pathlib import Path

# Open for the life of the process: a folder read from an archive would stay extracted.
_folders = ExitStack()


@cache
def folder(name: str) -> Path:
    """The package's data folder ``name`` (``_migrations`` or ``_web``) as a directory."""
    return _folders.enter_context(as_file(files("api") / name))
