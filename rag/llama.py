"""Opening a GGUF model with llama.cpp, safely on every CPU.

llama.cpp's CPU backend moves weights into "extra" buffer types for faster matrix products (AMX
tiles, repacked layouts). On some virtual machines that report AMX but do not give a process the
AMX state, the first batched evaluation then dies with a general protection fault (seen here on a
2-core Xeon VM with ``amx_int8``). So where the llama.cpp build uses AMX, models are opened without
the extra buffer types (a single-token evaluation works either way; batched prompt evaluation is
what crashed). ``RAG_LLAMA_EXTRA_BUFFERS=1`` forces them on, ``=0`` off.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

EXTRA_BUFFERS_ENV = "RAG_LLAMA_EXTRA_BUFFERS"
_OPEN_LOCK = threading.Lock()


def extra_buffers_safe(system_info: str | None = None) -> bool:
    """Whether models may use llama.cpp's extra CPU buffer types: ``$RAG_LLAMA_EXTRA_BUFFERS``
    when it is 0 or 1, else only when the build does not use AMX (``system_info`` is llama.cpp's
    ``llama_print_system_info``, read from the binding when not given).

    >>> extra_buffers_safe("CPU : AVX2 = 1 | AMX_INT8 = 1 |"), extra_buffers_safe("CPU : AVX2 = 1 |")
    (False, True)
    """
    forced = os.environ.get(EXTRA_BUFFERS_ENV, "").strip()
    if forced in ("0", "1"):
        return forced == "1"
    if system_info is None:
        import llama_cpp

        system_info = llama_cpp.llama_print_system_info().decode("utf-8", errors="replace")
    return "AMX_INT8 = 1" not in system_info


def open_llama(path: str | Path, **kwargs: Any) -> Any:
    """``llama_cpp.Llama(model_path=path, **kwargs)``, without the extra buffer types where they
    are not safe (:func:`extra_buffers_safe`)."""
    from llama_cpp import Llama
    from llama_cpp import llama_cpp as low_level

    if extra_buffers_safe():
        return Llama(model_path=str(path), **kwargs)
    # Llama() reads its model settings from llama_model_default_params() and offers no argument
    # for this one: give it defaults with the extra buffer types off while it loads.
    with _OPEN_LOCK:
        defaults = low_level.llama_model_default_params

        def without_extra_buffers() -> Any:
            params = defaults()
            params.use_extra_bufts = False
            return params

        low_level.llama_model_default_params = without_extra_buffers
        try:
            return Llama(model_path=str(path), **kwargs)
        finally:
            low_level.llama_model_default_params = defaults
