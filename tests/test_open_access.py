"""`make run` (python wsgi.py) will not serve an address others can reach with sign-in off,
unless ALLOW_OPEN_ACCESS says the operator means it."""
import os
import subprocess
import sys

import pytest

from chatapp.serving import open_access_refused
from tests.server_processes import ROOT

OPEN = {"LOGIN_REQUIRED": False, "ALLOW_OPEN_ACCESS": False}


def test_make_run_refuses_an_open_address_with_sign_in_off_and_says_why(tmp_path):
    env = {**os.environ, "HOST": "0.0.0.0", "PORT": "5999", "LOGIN_REQUIRED": "false",
           "ALLOW_OPEN_ACCESS": "", "SQLITE_PATH": str(tmp_path / "chat.sqlite3")}
    done = subprocess.run([sys.executable, "wsgi.py"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)

    assert done.returncode == 1
    assert "Refusing to serve on '0.0.0.0' with LOGIN_REQUIRED off" in done.stderr
    assert "ALLOW_OPEN_ACCESS=true" in done.stderr


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"])
def test_loopback_addresses_are_served_with_sign_in_off(host):
    assert open_access_refused(OPEN, host) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "chat.example.com", ""])
def test_other_addresses_need_sign_in_or_the_operators_word(host):
    assert open_access_refused(OPEN, host)
    assert open_access_refused({**OPEN, "LOGIN_REQUIRED": True}, host) is None
    assert open_access_refused({**OPEN, "ALLOW_OPEN_ACCESS": True}, host) is None
