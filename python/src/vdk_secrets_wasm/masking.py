"""Hiding the secret values a job obtained in what the job prints and logs.

The rules (JSON leaves, each line of a multi-line value, escaped and encoded forms) are the
vdk:secrets component's `mask` interface, the same code the Rust job runner uses; this module
only routes the job's output through it: `sys.stdout`, `sys.stderr` and the formatted records
of every logging handler. Output is masked a line at a time, so a value is recognised however
the job splits its writes; a partial line is masked when the stream is flushed.

Output written by the process below Python (a C library writing to file descriptor 1, a
subprocess) is not seen here.
"""

from __future__ import annotations

import io
import logging
import sys
import threading
from typing import Any, Callable, TextIO

# A partial line longer than this is masked and written before its end arrives.
_LONG_PARTIAL_LINE = 8192


class OutputMasker:
    """The values of one job run and the one function that hides them: `mask`."""

    def __init__(self) -> None:
        self._masker: Any = None
        self._has_values = False
        self._unavailable: str | None = None
        self._lock = threading.RLock()

    def attach(self, masker: Any, unavailable_reason: str | None = None) -> None:
        """Uses `masker` (a component masker) from now on; None with a reason when the
        component cannot mask."""
        with self._lock:
            if self._masker is None:
                self._masker = masker
                self._unavailable = unavailable_reason if masker is None else None

    @property
    def attached(self) -> bool:
        return self._masker is not None or self._unavailable is not None

    def add(self, value_json: str) -> None:
        """Registers a value the job obtained (JSON text)."""
        with self._lock:
            if self._masker is not None:
                self._masker.add(value_json)
                self._has_values = True
            elif self._unavailable is not None and not self._has_values:
                # Said once, on the raw stream, so that the job's owner knows.
                self._has_values = True
                sys.__stderr__.write(
                    "vdk-secrets-wasm: WARNING: secret values are not masked in this job's "
                    f"output: {self._unavailable}\n"
                )

    def mask(self, text: str) -> str:
        """`text` with every registered value hidden."""
        if not self._has_values or self._masker is None:
            return text
        with self._lock:
            return self._masker.mask(text)

    def mask_partial(self, text: str) -> tuple[str, str]:
        """A masked head to write now and a tail to keep for the next write."""
        if not self._has_values or self._masker is None:
            return text, ""
        with self._lock:
            return self._masker.mask_partial(text)

    @property
    def active(self) -> bool:
        return self._has_values and self._masker is not None


class MaskingStream(io.TextIOBase):
    """A text stream that masks what it passes on to `raw`, whole lines at a time."""

    def __init__(self, raw: TextIO, masker: OutputMasker):
        super().__init__()
        self.raw = raw
        self._masker = masker
        self._pending = ""
        self._lock = threading.RLock()

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        with self._lock:
            if not self._masker.active and not self._pending:
                self.raw.write(text)
                return len(text)
            self._pending += text
            if "\n" in self._pending:
                head, _, tail = self._pending.rpartition("\n")
                self._pending = tail
                self.raw.write(self._masker.mask(head + "\n"))
            if len(self._pending) > _LONG_PARTIAL_LINE:
                head, self._pending = self._masker.mask_partial(self._pending)
                self.raw.write(head)
        return len(text)

    def flush(self) -> None:
        with self._lock:
            if self._pending:
                pending, self._pending = self._pending, ""
                self.raw.write(self._masker.mask(pending))
            self.raw.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self.raw.isatty()

    def fileno(self) -> int:
        return self.raw.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.raw.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self.raw.errors


def _masked_format(format_record: Callable[[logging.LogRecord], str], masker: OutputMasker):
    def format(record: logging.LogRecord) -> str:
        return masker.mask(format_record(record))

    format._vdk_secrets_masked = True  # type: ignore[attr-defined]
    return format


def mask_logging(masker: OutputMasker) -> None:
    """Masks the formatted records of every logging handler there is now."""
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if not getattr(handler.format, "_vdk_secrets_masked", False):
                handler.format = _masked_format(handler.format, masker)  # type: ignore[method-assign]


def mask_output(masker: OutputMasker) -> None:
    """Routes sys.stdout, sys.stderr and logging through `masker` (once per process)."""
    if not isinstance(sys.stdout, MaskingStream):
        sys.stdout = MaskingStream(sys.stdout, masker)
    if not isinstance(sys.stderr, MaskingStream):
        sys.stderr = MaskingStream(sys.stderr, masker)
    mask_logging(masker)


def flush_output() -> None:
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, MaskingStream):
            stream.flush()
