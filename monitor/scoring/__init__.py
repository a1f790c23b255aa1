"""Scoring: `create_analyzer()` builds the multilingual review analyzer."""

from .analyzer import ReviewAnalyzer, create_analyzer

__all__ = ["ReviewAnalyzer", "create_analyzer"]
