"""Dashboard access: two roles, passwords from settings (plain or "sha256:<hex>").

- manager (brand manager): reads everything and exports;
- agent (service team): reads everything and acts on cases and follow-ups.
Without any password configured there is no login: the app is meant for localhost only (that is
how `make run` starts the demo) and says so on every page; the local user may do everything.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

ROLES = ("agent", "manager")
PERMISSIONS = {"agent": {"read", "act"}, "manager": {"read", "export"},
               "local": {"read", "act", "export"}}


@dataclass(frozen=True)
class AuthSettings:
    passwords: dict[str, str]  # role -> configured secret

    @classmethod
    def from_env(cls) -> "AuthSettings":
        pw = {"agent": os.environ.get("MONITOR_AGENT_PASSWORD", ""),
              "manager": os.environ.get("MONITOR_MANAGER_PASSWORD", "")}
        return cls({role: secret for role, secret in pw.items() if secret})

    @property
    def enabled(self) -> bool:
        return bool(self.passwords)


def _matches(given: str, secret: str) -> bool:
    if secret.startswith("sha256:"):
        digest = hashlib.sha256(given.encode()).hexdigest()
        return hmac.compare_digest(digest, secret.removeprefix("sha256:").lower())
    return hmac.compare_digest(given.encode(), secret.encode())


def role_for(password: str, settings: AuthSettings) -> str | None:
    """The role whose password this is, or None. Constant-time comparisons."""
    found = None
    for role, secret in settings.passwords.items():
        if _matches(password, secret):
            found = found or role
    return found


def can(role: str | None, permission: str) -> bool:
    return role is not None and permission in PERMISSIONS.get(role, set())
