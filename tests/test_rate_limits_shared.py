"""With RATELIMIT_STORAGE_URI pointing at Redis, the processes serving one site share one count:
here two apps (each with its own Limiter and its own connection, as two gunicorn workers have)
in front of a real redis-server started for the test. With the default local:// each counts
alone."""
import shutil
import subprocess
import time

import pytest
import redis

from chatapp import create_app
from tests.helpers import free_port


@pytest.fixture(scope="module")
def redis_url():
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("No redis-server: `make test` installs it (Debian's redis-server package).",
                    pytrace=False)
    port = free_port()
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no"], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                server.kill()
                pytest.fail("redis-server did not start", pytrace=False)
            time.sleep(0.05)
    yield url
    server.terminate()
    server.wait(timeout=10)


def two_workers(app_config, tmp_path, storage_uri):
    config = {**app_config, "RATELIMIT_CHAT": "3/minute", "RATELIMIT_STORAGE_URI": storage_uri}
    return [create_app(config, instance_path=str(tmp_path / "instance")).test_client()
            for _ in range(2)]


def send(client):
    return client.post("/api/chat", json={"message": "Hi"}).status_code


def test_workers_share_one_count_through_redis(app_config, tmp_path, redis_url):
    redis.Redis.from_url(redis_url).flushall()
    first, second = two_workers(app_config, tmp_path, redis_url)

    assert [send(first), send(second), send(first)] == [200, 200, 200]
    assert send(second) == 429 and send(first) == 429


def test_with_local_counts_each_worker_counts_alone(app_config, tmp_path):
    first, second = two_workers(app_config, tmp_path, "local://")

    assert [send(first) for _ in range(3)] == [200, 200, 200]
    assert send(first) == 429
    assert send(second) == 200
