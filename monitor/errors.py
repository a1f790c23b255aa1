"""The errors a user can fix. Each message is one line that says what to fix.

`monitor` commands turn a MonitorError (and the operating system's file errors) into that line
on stderr and exit code 2; anything else is a bug and keeps its traceback.

    MonitorError
    ├── ConfigError      a MONITOR_* setting or a config file is wrong
    ├── InputError       a value the user gave (an option, a file's content) is wrong
    │   └── IngestError  (monitor.readers, monitor.ingest) a review file cannot be read
    ├── StoreError       (monitor.store) the database cannot be opened or written
    └── case errors      (monitor.cases, monitor.casework) a move the workflow refuses, a case
                         changed meanwhile, an unknown case
"""

from __future__ import annotations


class MonitorError(Exception):
    """An error the user can fix; its message says how, in one line."""


class ConfigError(MonitorError, ValueError):
    """A MONITOR_* setting (or the config file) holds a value the product cannot use."""


class InputError(MonitorError, ValueError):
    """A value the user gave (a command option, a file, a request) cannot be used."""
