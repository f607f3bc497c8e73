"""When llama.cpp's extra CPU buffer types are used (``rag.llama``)."""

from __future__ import annotations

import pytest

from rag.llama import EXTRA_BUFFERS_ENV, extra_buffers_safe

AMX = "CPU : SSE3 = 1 | AVX2 = 1 | AVX512 = 1 | AMX_INT8 = 1 | LLAMAFILE = 1 | REPACK = 1 |"
NO_AMX = "CPU : SSE3 = 1 | AVX2 = 1 | AVX512 = 1 | LLAMAFILE = 1 | REPACK = 1 |"


def test_off_where_the_build_uses_amx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(EXTRA_BUFFERS_ENV, raising=False)
    assert extra_buffers_safe(AMX) is False
    assert extra_buffers_safe(NO_AMX) is True


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("0", False), ("", False), ("yes", False)])
def test_the_environment_forces_it(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool) -> None:
    monkeypatch.setenv(EXTRA_BUFFERS_ENV, value)
    assert extra_buffers_safe(AMX) is expected


def test_the_binding_is_asked_when_no_info_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    import llama_cpp

    monkeypatch.delenv(EXTRA_BUFFERS_ENV, raising=False)
    info = llama_cpp.llama_print_system_info().decode()
    assert extra_buffers_safe() is ("AMX_INT8 = 1" not in info)
