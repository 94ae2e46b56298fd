"""Reads the job's secrets, prints and logs them, and writes an edited set.

Between its read and its write the job waits, when $SECRETS_JOB_SYNC_DIR is set, for the file
`go` there (after creating `read`), so that another writer can change the secrets meanwhile.
With $SECRETS_JOB_BAD_NAME set, the written set also holds a name too long.
"""

import base64
import json
import logging
import os
import pathlib
import sys
import time

log = logging.getLogger(__name__)


def run(job_input):
    password = job_input.get_secret("db_password")
    print(f"password: {password}")
    print(f"password repr: {password!r}")
    print(f"password length: {len(password)}")
    sys.stderr.write(f"on stderr: {password}\n")
    log.info("logged: %s", password)
    config = job_input.get_secret("db_config")
    print(f"config: {json.dumps(config)}")
    basic = base64.b64encode(f"{config['user']}:{password}".encode()).decode()
    print(f"Authorization: Basic {basic}")

    secrets = job_input.get_all_secrets()
    print(f"secrets read: {sorted(secrets)}")
    sync = os.environ.get("SECRETS_JOB_SYNC_DIR")
    if sync:
        (pathlib.Path(sync) / "read").touch()
        deadline = time.monotonic() + 60
        while not (pathlib.Path(sync) / "go").exists():
            if time.monotonic() > deadline:
                raise RuntimeError("nobody said go")
            time.sleep(0.05)

    secrets["last_run"] = "ok"
    del secrets["obsolete"]
    if os.environ.get("SECRETS_JOB_BAD_NAME"):
        secrets["x" * 300] = 1
    job_input.set_all_secrets(secrets)
    print("secrets written")
