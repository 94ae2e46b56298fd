"""`vdk run` of a sample job with vdk-secrets-wasm installed, against the reference server on
OpenBao. scripts/test-python.sh starts both and sets VDK_SECRETS_TEST_URL and
VDK_SECRETS_TEST_TOKEN (a token of team-py)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from vdk_secrets_wasm.component import BUNDLED_COMPONENT, Config, SecretsComponent

URL = os.environ["VDK_SECRETS_TEST_URL"]
TOKEN = os.environ["VDK_SECRETS_TEST_TOKEN"]
TEAM = "team-py"
JOB_DIR = Path(__file__).parent / "jobs" / "secrets-job"
VDK = str(Path(sys.executable).with_name("vdk"))

PASSWORD = "hunter2-py-password"
USER = "svc-py-user"
HOST = "db.internal.example"
OBSOLETE = "x-old-value"
SECRETS = {
    "db_password": PASSWORD,
    "db_config": {"host": HOST, "port": 5432, "user": USER},
    "obsolete": OBSOLETE,
}


def secrets_url(job: str) -> str:
    return f"{URL}/data-jobs/for-team/{TEAM}/jobs/{job}/deployments/TODO/secrets"


def api(method: str, job: str, body: dict | None = None) -> dict:
    """What another client of the Secrets API does, with plain HTTP."""
    request = urllib.request.Request(
        secrets_url(job),
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    return json.loads(text) if text else {}


@pytest.fixture
def job(tmp_path, request):
    """A copy of the sample job with a name of its own, its secrets seeded."""
    name = "py-" + request.node.name.removeprefix("test_").replace("_", "-")[:40]
    directory = tmp_path / name
    shutil.copytree(JOB_DIR, directory)
    api("PUT", name, SECRETS)
    return directory


def vdk_run(job_dir: Path, cache: Path, url: str = URL, token: str = TOKEN, **env: str):
    environment = dict(os.environ)
    environment.update(
        VDK_CONTROL_SERVICE_REST_API_URL=url,
        VDK_SECRETS_API_TOKEN=token,
        VDK_SECRETS_WASM_CACHE_DIR=str(cache),
        **env,
    )
    return subprocess.Popen(
        [VDK, "run", str(job_dir)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    stdout, stderr = process.communicate(timeout=120)
    return process.returncode, stdout, stderr


def test_a_job_reads_masked_and_its_write_keeps_another_writers_change(job, tmp_path):
    sync = tmp_path / "sync"
    sync.mkdir()
    process = vdk_run(job, tmp_path / "cache", SECRETS_JOB_SYNC_DIR=str(sync))
    deadline = time.monotonic() + 60
    while not (sync / "read").exists():
        assert process.poll() is None, finish(process)
        assert time.monotonic() < deadline, "the job never read its secrets"
        time.sleep(0.05)
    # Another writer adds a key and changes one after the job has read.
    current = api("GET", job.name)
    moved = {"host": HOST, "port": 6543, "user": USER}
    api("PUT", job.name, {**current, "added_by_other": "theirs", "db_config": moved})
    (sync / "go").touch()
    status, stdout, stderr = finish(process)
    assert status == 0, stdout + stderr

    stored = api("GET", job.name)
    assert stored == {
        "db_password": PASSWORD,
        "db_config": moved,  # kept: the job did not change it, though it wrote it back
        "added_by_other": "theirs",  # kept: the job did not have it
        "last_run": "ok",  # the job's addition
    }, "the job's deletion of `obsolete` arrived too"
    assert "password length: 19" in stdout, stdout
    assert '"port": 5432' in stdout, "numbers are not secrets"
    assert "secrets written" in stdout, stdout

    output = stdout + stderr
    assert "password: ***" in stdout, stdout
    assert "on stderr: ***" in stderr, stderr
    assert "logged: ***" in stderr, stderr
    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert "Authorization: Basic " in stdout, stdout
    for secret in (PASSWORD, USER, HOST, repr(PASSWORD), basic, basic[12:]):
        assert secret not in output, f"{secret} leaked:\n{output}"


def test_the_compiled_component_is_cached_for_the_next_start(job, tmp_path):
    cache = tmp_path / "cache"
    status, stdout, stderr = finish(vdk_run(job, cache))
    assert status == 0, stdout + stderr
    compiled = list(cache.glob("*.cwasm"))
    assert len(compiled) == 1, compiled
    written = compiled[0].stat().st_mtime_ns
    api("PUT", job.name, SECRETS)
    status, stdout, stderr = finish(vdk_run(job, cache))
    assert status == 0, stdout + stderr
    assert [p.stat().st_mtime_ns for p in cache.glob("*.cwasm")] == [written], "compiled again"

    # A cache others could write to is not loaded from: compiled afresh, and said why.
    cache.chmod(0o777)
    api("PUT", job.name, SECRETS)
    status, stdout, stderr = finish(vdk_run(job, cache))
    assert status == 0, stdout + stderr
    assert "not using the compiled-component cache" in stderr, stderr
    assert "others can write to it" in stderr, stderr


def test_with_the_server_down_the_job_fails_with_a_clear_exception(job, tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    status, stdout, stderr = finish(vdk_run(job, tmp_path / "cache", url=closed))
    output = stdout + stderr
    assert status != 0, output
    assert "The secrets could not be read (job `team-py/py-with-the-server-down" in output, output
    assert "(unavailable)" in output and "connection refused" in output, output
    assert "What to do:" in output, output
    assert "wasm backtrace" not in output and "wasm trap" not in output, output


def test_a_wrong_token_fails_with_a_clear_exception_and_shows_no_secret(job, tmp_path):
    wrong = "wrong-token-0123456789"
    status, stdout, stderr = finish(vdk_run(job, tmp_path / "cache", token=wrong))
    output = stdout + stderr
    assert status != 0, output
    assert "(unauthorized, HTTP 401)" in output, output
    assert "What to do:" in output, output
    for secret in (wrong, TOKEN, PASSWORD, USER):
        assert secret not in output, f"{secret} leaked:\n{output}"
    assert api("GET", job.name) == SECRETS, "nothing was written"


def test_an_invalid_set_is_refused_whole_with_every_problem(job, tmp_path):
    status, stdout, stderr = finish(vdk_run(job, tmp_path / "cache", SECRETS_JOB_BAD_NAME="1"))
    output = stdout + stderr
    assert status != 0, output
    assert "(invalid-input)" in output, output
    assert "is 300 characters long and the limit is 256" in output, output
    assert api("GET", job.name) == SECRETS, "nothing was written, not even the valid edits"


def test_the_wheel_bundles_the_component():
    assert BUNDLED_COMPONENT.is_file()
    assert "site-packages" in str(BUNDLED_COMPONENT), "the installed wheel, not the source tree"
    assert BUNDLED_COMPONENT.read_bytes()[:8] == b"\0asm\x0d\0\x01\0", "a component binary"


def test_errors_reach_a_host_as_secrets_errors_without_values():
    from vdk_secrets_wasm.component import SecretsError

    component = SecretsComponent(Config(URL, TEAM, "py-direct", token=TOKEN))
    with pytest.raises(SecretsError) as refused:
        component.set_secret("bad name!", json.dumps(PASSWORD))
    assert refused.value.code == "invalid-input"
    assert PASSWORD not in str(refused.value)
    assert "Why:" in str(refused.value) and "What to do:" in str(refused.value)
    assert TOKEN not in repr(Config(URL, TEAM, "j", token=TOKEN))
