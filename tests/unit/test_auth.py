import hashlib

from monitor.auth import AuthSettings, can, role_for


def test_roles_from_plain_and_hashed_passwords():
    s = AuthSettings({"agent": "agent-pw",
                      "manager": "sha256:" + hashlib.sha256(b"boss-pw").hexdigest()})
    assert role_for("agent-pw", s) == "agent"
    assert role_for("boss-pw", s) == "manager"
    assert role_for("nope", s) is None and role_for("", s) is None


def test_permissions():
    assert can("agent", "act") and not can("agent", "export")
    assert can("manager", "export") and not can("manager", "act")
    assert can("local", "act") and can("local", "export")
    assert not can(None, "read")


def test_no_passwords_means_no_login(monkeypatch):
    monkeypatch.delenv("MONITOR_AGENT_PASSWORD", raising=False)
    monkeypatch.delenv("MONITOR_MANAGER_PASSWORD", raising=False)
    assert not AuthSettings.from_env().enabled
    monkeypatch.setenv("MONITOR_AGENT_PASSWORD", "x")
    assert AuthSettings.from_env().passwords == {"agent": "x"}
