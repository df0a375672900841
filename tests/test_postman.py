"""Runs the Postman collection (postman/chatapp.postman_collection.json) with newman against the
app served over real HTTP, with the fake model behind it. `make test` installs newman (npm ci)."""
import os
import subprocess

from tests.live_server import LiveServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NEWMAN = os.path.join(ROOT, "node_modules", ".bin", "newman")
COLLECTION = os.path.join("postman", "chatapp.postman_collection.json")
NEWMAN_TIMEOUT_S = 120


def test_postman_collection_passes(app, fake_openai):
    # Never a skip: a missing newman would let the API contract go untested without notice.
    assert os.path.exists(NEWMAN), (
        f"newman is not installed ({NEWMAN} is missing): run `make test`, which runs npm ci "
        "(or run `npm ci` in the repository root)."
    )
    with LiveServer(app) as server:
        try:
            result = subprocess.run(
                [NEWMAN, "run", COLLECTION, "--env-var", f"baseUrl={server.url}",
                 "--reporters", "cli", "--color", "off", "--timeout-request", "10000"],
                cwd=ROOT, capture_output=True, text=True, timeout=NEWMAN_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired as error:
            raise AssertionError(
                f"newman did not finish within {NEWMAN_TIMEOUT_S} s; its output so far:\n"
                f"{_text(error.stdout)}\n{_text(error.stderr)}"
            ) from error
    assert result.returncode == 0, (
        f"newman exited with {result.returncode}; its output:\n{result.stdout}\n{result.stderr}"
    )
    # Seven turns reached the model: the four chat turns (two answered whole, two streamed), the
    # turn with a model picked, the regenerate and the edit. The refused requests (the bad stream
    # flag, the unknown model, the empty edit and the text/plain regenerate among them) did not.
    assert len(fake_openai.requests) == 7, fake_openai.requests


def _text(output):
    if isinstance(output, bytes):
        return output.decode(errors="replace")
    return output or ""
