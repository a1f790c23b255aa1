"""Scoring: `create_analyzer()` builds the multilingual review analyzer.

The analyzer (and torch with it) loads on first use, so the parts that need no model (phrase
and escalation rules, the store, the fast CLI commands) import this package cheaply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .analyzer import ReviewAnalyzer, create_analyzer

__all__ = ["ReviewAnalyzer", "create_analyzer"]


def __getattr__(name: str):
    if name in __all__:
        from . import analyzer

        return getattr(analyzer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
