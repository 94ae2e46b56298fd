"""The vdk-core plugin: a data job's secrets through the vdk:secrets component.

Installed, it registers the component as the job's secrets backend (secrets type
`vdk-secrets-wasm`, also registered as `default`), so `job_input.get_secret`,
`get_all_secrets` and `set_all_secrets` go through it unchanged. Its configuration comes from
VDK's usual settings:

- `CONTROL_SERVICE_REST_API_URL` (env `VDK_CONTROL_SERVICE_REST_API_URL`): the Control
  Service, or any server of the Data Job Secrets API;
- the team from the job's `config.ini` (`[owner] team`), the job's name from its directory;
- `SECRETS_API_TOKEN` (env `VDK_SECRETS_API_TOKEN`): the bearer token, when the server wants
  one; `SECRETS_API_DEPLOYMENT_ID`; `SECRETS_WASM_CACHE_DIR` for the compiled component.

`set_all_secrets` never loses another writer's change: the job's new set is compared with
the set the job read, and only the difference is written, one secret at a time, with the
component's conflict-safe `set-secret` and `delete-secret` (each re-reads and retries when the
set changed meanwhile). A secret someone else added, changed or deleted since the job read is
kept as they left it unless the job itself changed that secret. A job that writes without
having read writes the difference against the set as it is at that moment.

Every value the job obtains is masked in its stdout, stderr and log output (see `masking`).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from vdk.api.plugin.hook_markers import hookimpl
from vdk.api.plugin.plugin_input import ISecretsServiceClient

from .component import Config, SecretsComponent, SecretsError, to_json
from .masking import OutputMasker, flush_output, mask_logging, mask_output

log = logging.getLogger(__name__)

CONTROL_SERVICE_URL = "CONTROL_SERVICE_REST_API_URL"
TOKEN = "SECRETS_API_TOKEN"
DEPLOYMENT_ID = "SECRETS_API_DEPLOYMENT_ID"
CACHE_DIR = "SECRETS_WASM_CACHE_DIR"
SECRETS_TYPE = "vdk-secrets-wasm"

# One masker per process: a `vdk run` runs one job.
_masker = OutputMasker()


class ComponentSecretsClient(ISecretsServiceClient):
    """vdk-core's secrets service client, served by the vdk:secrets component."""

    def __init__(
        self,
        base_url: str | None,
        team: str | None,
        job: str,
        token: str | None = None,
        deployment_id: str | None = None,
        cache_dir: Path | None = None,
        masker: OutputMasker = _masker,
    ):
        self._settings = (base_url, team, job, token, deployment_id)
        self._cache_dir = cache_dir
        self._masker = masker
        self._component: SecretsComponent | None = None
        # The set as the job last saw it (name -> canonical JSON): the base of its next write.
        self._read: dict[str, str] | None = None

    def _get_component(self) -> SecretsComponent:
        if self._component is None:
            base_url, team, job, token, deployment_id = self._settings
            missing = [
                what
                for what, value in (
                    (f"the Control Service URL ({CONTROL_SERVICE_URL})", base_url),
                    ("the team ([owner] team in config.ini)", team),
                )
                if not value
            ]
            if missing:
                raise SecretsError(
                    "invalid-input",
                    f"Cannot reach the secrets of job {job}",
                    f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set",
                    f"Set {CONTROL_SERVICE_URL} (or the environment variable "
                    f"VDK_{CONTROL_SERVICE_URL}) and the team in the job's config.ini.",
                )
            config = Config(base_url, team, job, deployment_id, token)  # type: ignore[arg-type]
            self._component = SecretsComponent(config, cache_dir=self._cache_dir)
            if not self._masker.attached:
                masker = self._component.new_masker()
                self._masker.attach(
                    masker,
                    None if masker else "the bundled vdk:secrets component has no mask interface",
                )
        return self._component

    def _remember(self, pairs: list[tuple[str, str]]) -> dict[str, Any]:
        # Handlers the job's code added since it started are masked from now on too.
        mask_logging(self._masker)
        for _, value in pairs:
            self._masker.add(value)
        values = {name: json.loads(value) for name, value in pairs}
        self._read = {name: _canonical(value) for name, value in pairs}
        return values

    def read_secrets(self, job_name: str, team_name: str) -> dict[str, Any]:
        return self._remember(self._get_component().get_all_secrets())

    def write_secrets(self, job_name: str, team_name: str, secrets: dict[str, Any]) -> dict:
        component = self._get_component()
        new = {name: to_json(value) for name, value in secrets.items()}
        for value in new.values():
            self._masker.add(value)
        # Every problem of the whole new set before anything is written.
        problems = component.validate_secrets(sorted(new.items()))
        if problems:
            raise SecretsError(
                "invalid-input",
                f"The secrets of job {job_name} were not written",
                "the new set breaks the rules of valid secrets",
                "Correct the names or values listed and try again; nothing was changed.",
                problems=problems,
            )
        base = self._read
        if base is None:
            base = {name: _canonical(value) for name, value in component.get_all_secrets()}
        for name, value in new.items():
            if base.get(name) != _canonical(value):
                component.set_secret(name, value)
        for name in base.keys() - new.keys():
            try:
                component.delete_secret(name)
            except SecretsError as e:
                if e.code != "not-found":  # someone else deleted it already
                    raise
        self._read = {name: _canonical(value) for name, value in new.items()}
        return secrets


def _canonical(value_json: str) -> str:
    """One text per JSON value, whatever its spacing or key order: what the diff compares."""
    return json.dumps(json.loads(value_json), sort_keys=True, separators=(",", ":"))


def _setting(config: Any, key: str) -> str | None:
    value = config.get_value(key)
    return str(value) if value not in (None, "") else None


@hookimpl
def vdk_configure(config_builder: Any) -> None:
    config_builder.add(
        key=CONTROL_SERVICE_URL,
        default_value=None,
        description="The Control Service (Data Job Secrets API) base URL, "
        "e.g. https://control-service.example.com",
    )
    config_builder.add(
        key=TOKEN,
        default_value=None,
        is_sensitive=True,
        description="Bearer token for the Data Job Secrets API, when the server requires one.",
    )
    config_builder.add(
        key=DEPLOYMENT_ID,
        default_value=None,
        description="Deployment id sent in the Secrets API path (the server ignores it).",
    )
    config_builder.add(
        key=CACHE_DIR,
        default_value=None,
        description="Where the compiled vdk:secrets component is kept "
        "(default ~/.cache/vdk-secrets-wasm).",
    )


@hookimpl
def initialize_job(context: Any) -> None:
    config = context.core_context.configuration
    cache_dir = _setting(config, CACHE_DIR)
    settings = {
        "base_url": _setting(config, CONTROL_SERVICE_URL),
        "team": _setting(config, "team"),
        "job": context.name,
        "token": _setting(config, TOKEN),
        "deployment_id": _setting(config, DEPLOYMENT_ID),
        "cache_dir": Path(cache_dir) if cache_dir else None,
    }

    def factory() -> ComponentSecretsClient:
        return ComponentSecretsClient(**settings)

    context.secrets.set_secrets_factory_method(SECRETS_TYPE, factory)
    context.secrets.set_secrets_factory_method("default", factory)
    mask_output(_masker)


@hookimpl
def finalize_job(context: Any) -> None:
    flush_output()
