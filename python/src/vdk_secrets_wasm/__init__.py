"""vdk-secrets-wasm: a VDK data job's secrets through the vdk:secrets WebAssembly component.

`plugin` is the vdk-core plugin; `component` embeds the component with wasmtime and can be used
without vdk-core.
"""

__version__ = "0.1.0"
