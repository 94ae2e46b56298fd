"""A VDK data job written in Python and built as a component of the world
`vdk:secrets/data-job` with componentize-py (see build.sh).

The job reads its secrets through the `store` import, the only thing it can reach: no URL, no
token, no network of its own. Whatever it prints of a secret is masked by its host
(vdk-job-runner). It reads `db_password` and `db_config` when they exist, and records its run
in the secret `last_run` with a per-key write that keeps other writers' changes.
"""

import json
import sys

import wit_world
from componentize_py_types import Err
from wit_world.imports import store


def _failure(e: Err) -> str:
    error = e.value
    return f"{error.what}: {error.why} ({error.countermeasures})"


class WitWorld(wit_world.WitWorld):
    def run(self) -> None:
        try:
            password = store.get_secret("db_password")
            if password is None:
                print("this job has no secret db_password; add one to see it masked")
            else:
                value = json.loads(password)
                print(f"password: {value}")
                print(f"password repr: {value!r}")
                print(f"password length: {len(value)}")
                print(f"stderr sees {value} masked too", file=sys.stderr)
            config = store.get_secret("db_config")
            if config is not None:
                print(f"db_config: {json.dumps(json.loads(config))}")
            names = [name for name, _ in store.get_all_secrets()]
            print(f"secrets: {len(names)} ({', '.join(names)})")
            store.set_secret("last_run", json.dumps("ok"))
            print("last_run recorded")
        except Err as e:
            raise Err(_failure(e)) from None
