"""review-monitor: see what buyers say in every language, and act before a bad review costs trust."""

__version__ = "0.1.0"
