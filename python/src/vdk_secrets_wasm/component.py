"""The vdk:secrets component in this process, through wasmtime's component model.

The component (world `vdk:secrets/secrets-component`) holds the Secrets API client and its
rules; this module gives it its configuration through the `configuration` import, WASI 0.2 and
wasi:http from wasmtime, and turns its exports into Python calls. Nothing here depends on
vdk-core, so any Python host can use it.

The compiled component is kept in a cache directory, so a process start loads machine code
instead of compiling: a compiled file is only loaded from a directory that only its owner can
write (loading compiled code runs it), otherwise the component is compiled in memory.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: The component bundled with this package.
BUNDLED_COMPONENT = Path(__file__).with_name("vdk-secrets.wasm")

_STORE = "vdk:secrets/store@0.1.0"
_VALIDATE = "vdk:secrets/validate@0.1.0"
_MASK = "vdk:secrets/mask@0.1.0"
_CONFIGURATION = "vdk:secrets/configuration@0.1.0"


class SecretsError(Exception):
    """A failure to read or write a job's secrets: what failed, why, and what to do.

    `code` is the component's error code (`not-found`, `unauthorized`, `unavailable`, ...) or
    `component` when the component itself could not run. No field ever holds a secret value.
    """

    def __init__(
        self,
        code: str,
        what: str,
        why: str,
        countermeasures: str,
        status: int | None = None,
        problems: list[tuple[str, str]] | None = None,
    ):
        self.code = code
        self.what = what
        self.why = why
        self.countermeasures = countermeasures
        self.status = status
        self.problems = problems or []
        lines = [f"{what} ({code}{f', HTTP {status}' if status else ''})", f"Why: {why}"]
        lines += [f"  - {key}: {message}" for key, message in self.problems]
        lines.append(f"What to do: {countermeasures}")
        super().__init__("\n".join(lines))


@dataclass(frozen=True, repr=False)
class Config:
    """Where the job's secrets are: what the component's `configuration` import returns."""

    base_url: str
    team: str
    job: str
    deployment_id: str | None = None
    token: str | None = None

    def __repr__(self) -> str:  # the token never appears in a repr or a log
        token = "<set>" if self.token else None
        return (
            f"Config(base_url={self.base_url!r}, team={self.team!r}, job={self.job!r}, "
            f"deployment_id={self.deployment_id!r}, token={token})"
        )


# One engine and one compiled component per process and component file.
_engine_lock = threading.Lock()
_engine = None
_compiled: dict[str, Any] = {}


def _get_engine():
    global _engine
    import wasmtime

    with _engine_lock:
        if _engine is None:
            _engine = wasmtime.Engine()
        return _engine


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "vdk-secrets-wasm"


def _untrusted_reason(path: Path) -> str | None:
    """Why a cache directory or file must not be loaded from, or None when only we can write it."""
    try:
        st = path.stat()
    except OSError as e:
        return f"cannot inspect it: {e.strerror}"
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return "another user owns it"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return "others can write to it"
    return None


def load_component(wasm_path: Path = BUNDLED_COMPONENT, cache_dir: Path | None = None):
    """The compiled component: from this process's memory, from the cache, or compiled now
    (and then written to the cache)."""
    from wasmtime import WasmtimeError
    from wasmtime import component as wc

    key = str(wasm_path)
    if key in _compiled:
        return _compiled[key]
    engine = _get_engine()
    try:
        wasm = wasm_path.read_bytes()
    except OSError as e:
        raise SecretsError(
            "component",
            "Cannot load the vdk:secrets component",
            f"{wasm_path} cannot be read: {e.strerror}",
            "Reinstall vdk-secrets-wasm (its wheel bundles the component).",
        ) from None
    import wasmtime

    digest = hashlib.sha256(wasm).hexdigest()[:32]
    version = getattr(wasmtime, "__version__", "unknown")
    cache_dir = cache_dir if cache_dir is not None else default_cache_dir()
    cached = cache_dir / f"vdk-secrets-{digest}-wasmtime-{version}.cwasm"
    compiled = None
    reason = _prepare_cache_dir(cache_dir)
    if reason is None and cached.exists():
        reason = _untrusted_reason(cached)
        if reason is None:
            try:
                compiled = wc.Component.deserialize_file(engine, str(cached))
            except WasmtimeError:
                compiled = None  # another wasmtime build or a damaged file: compile again
        else:
            reason = f"{cached} is not trusted: {reason}"
    if compiled is None:
        try:
            compiled = wc.Component(engine, wasm)
        except WasmtimeError as e:
            raise SecretsError(
                "component",
                "Cannot compile the vdk:secrets component",
                str(e).splitlines()[0],
                f"Check that {wasm_path} is the component this package was built with.",
            ) from None
        if reason is None:
            _write_cache(cached, compiled.serialize())
        else:
            log.warning("vdk-secrets-wasm: not using the compiled-component cache: %s", reason)
    _compiled[key] = compiled
    return compiled


def _prepare_cache_dir(cache_dir: Path) -> str | None:
    try:
        cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as e:
        return f"{cache_dir} cannot be created: {e.strerror}"
    reason = _untrusted_reason(cache_dir)
    return f"{cache_dir} is not trusted: {reason}" if reason else None


def _write_cache(path: Path, data: bytes) -> None:
    """Writes a compiled component whole or not at all (a rename), readable by its owner only."""
    import tempfile

    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".cwasm")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as e:
        log.warning("vdk-secrets-wasm: cannot write the compiled component to %s: %s", path, e)


def _error_from_record(record: Any) -> SecretsError:
    return SecretsError(
        code=record.code,
        what=record.what,
        why=record.why,
        countermeasures=record.countermeasures,
        status=record.status,
        problems=[(p.key, p.message) for p in record.problems],
    )


class SecretsComponent:
    """One instance of the vdk:secrets component, configured for one job.

    Calls are serialised (a wasmtime store is used by one thread at a time). Every failure is a
    `SecretsError`; a trap inside the component becomes one too, without wasm frames.
    """

    def __init__(
        self,
        config: Config,
        wasm_path: Path = BUNDLED_COMPONENT,
        cache_dir: Path | None = None,
    ):
        import wasmtime
        from wasmtime import WasmtimeError
        from wasmtime import component as wc

        self._lock = threading.RLock()
        self._config = config
        compiled = load_component(wasm_path, cache_dir)
        engine = _get_engine()
        record = wc.Record()
        setattr(record, "base-url", config.base_url)
        record.team = config.team
        record.job = config.job
        setattr(record, "deployment-id", config.deployment_id)
        record.token = config.token
        try:
            linker = wc.Linker(engine)
            linker.add_wasip2()
            linker.add_wasi_http()
            with linker.root() as root:
                with root.add_instance(_CONFIGURATION) as configuration:
                    configuration.add_func("get-config", lambda _store: record)
            # No environment, arguments, files or standard streams for the component.
            self._store = wasmtime.Store(engine)
            self._store.set_wasi(wasmtime.WasiConfig())
            self._store.set_wasi_http()
            self._instance = linker.instantiate(self._store, compiled)
        except WasmtimeError as e:
            raise SecretsError(
                "component",
                "Cannot start the vdk:secrets component",
                str(e).splitlines()[0],
                "Reinstall vdk-secrets-wasm; its component and its wasmtime must match.",
            ) from None
        self._funcs: dict[tuple[str, str], Any] = {}

    def _func(self, interface: str, name: str):
        key = (interface, name)
        func = self._funcs.get(key)
        if func is None:
            iface = self._instance.get_export_index(self._store, interface)
            index = iface and self._instance.get_export_index(self._store, name, iface)
            func = index and self._instance.get_func(self._store, index)
            if not func:
                raise SecretsError(
                    "component",
                    f"The vdk:secrets component has no `{interface}` function `{name}`",
                    "the bundled component is older or newer than this package",
                    "Reinstall vdk-secrets-wasm so that the package and its component match.",
                )
            self._funcs[key] = func
        return func

    def has_interface(self, interface: str) -> bool:
        return self._instance.get_export_index(self._store, interface) is not None

    def call(self, interface: str, name: str, *args: Any) -> Any:
        """Calls an export; a `result` error becomes a SecretsError, `ok` is returned."""
        from wasmtime import WasmtimeError
        from wasmtime.component import Record

        with self._lock:
            func = self._func(interface, name)
            try:
                result = func(self._store, *args)
            except WasmtimeError as e:
                first = str(e).splitlines()[0] if str(e) else type(e).__name__
                raise SecretsError(
                    "component",
                    f"The vdk:secrets component stopped while running `{name}`",
                    f"it trapped: {first}",
                    "This is a defect, not a problem with the job or its secrets: report it "
                    "with this message. The job's secrets were not changed by this call.",
                ) from None
        # `result<T, error>` comes back untagged: the error is the only record.
        if isinstance(result, Record) and hasattr(result, "countermeasures"):
            raise _error_from_record(result)
        return result

    # The `store` interface, values as JSON text.

    def get_secret(self, name: str) -> str | None:
        return self.call(_STORE, "get-secret", name)

    def get_all_secrets(self) -> list[tuple[str, str]]:
        return list(self.call(_STORE, "get-all-secrets"))

    def set_all_secrets(self, secrets: list[tuple[str, str]]) -> None:
        self.call(_STORE, "set-all-secrets", secrets)

    def set_secret(self, name: str, value: str) -> None:
        self.call(_STORE, "set-secret", name, value)

    def delete_secret(self, name: str) -> None:
        self.call(_STORE, "delete-secret", name)

    # The `validate` interface.

    def validate_secrets(self, secrets: list[tuple[str, str]]) -> list[tuple[str, str]]:
        problems = self.call(_VALIDATE, "secrets", secrets, None)
        return [(p.key, p.message) for p in problems]

    # The `mask` interface, when the component has it.

    def new_masker(self) -> ComponentMasker | None:
        """A masker of the component's `mask` interface, or None when it has none."""
        if not self.has_interface(_MASK):
            return None
        return ComponentMasker(self, self.call(_MASK, "[constructor]masker"))


class ComponentMasker:
    """One `masker` resource of the component: the values of one job run."""

    def __init__(self, component: SecretsComponent, handle: Any):
        self._component = component
        self._handle = handle

    def add(self, value_json: str) -> None:
        self._component.call(_MASK, "[method]masker.add", self._handle, value_json)

    def mask(self, text: str) -> str:
        return self._component.call(_MASK, "[method]masker.mask", self._handle, text)

    def mask_partial(self, text: str) -> tuple[str, str]:
        head, tail = self._component.call(_MASK, "[method]masker.mask-partial", self._handle, text)
        return head, tail


def to_json(value: Any) -> str:
    """A Python secret value as the JSON text the component takes."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False)
