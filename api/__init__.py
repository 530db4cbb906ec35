"""Safeground: mine-risk data platform for humanitarian mine action."""

__version__ = "0.1.0"
