"""Parameter schemas of undecorated custom scorers, and how schemas read in error messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from canary_eval.scorers.params import describe_schema, json_type, signature_schema


def factory(
    limit: int,
    ratio: float = 0.5,
    name: str | None = None,
    words: Sequence[str] = (),
    mode: Literal["a", "b"] = "a",
    options: dict[str, Any] | None = None,
    anything: Any = None,
    ctx: Any = None,
) -> Any:
    return None


def test_signature_gives_types_required_names_and_ignores_ctx() -> None:
    params, required, open_params = signature_schema(factory)
    assert required == ("limit",)
    assert not open_params
    assert params == {
        "limit": {"type": "integer"},
        "ratio": {"type": "number"},
        "name": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "words": {"type": "array"},
        "mode": {"enum": ["a", "b"]},
        "options": {"anyOf": [{"type": "object"}, {"type": "null"}]},
        "anything": {},
    }


def test_kwargs_open_the_parameters() -> None:
    def f(a, **rest):  # type: ignore[no-untyped-def]
        return None

    params, required, open_params = signature_schema(f)
    assert (params, required, open_params) == ({"a": {}}, ("a",), True)


def test_schemas_read_as_words() -> None:
    assert describe_schema({"type": "integer"}) == "an integer"
    assert describe_schema({"anyOf": [{"type": "string"}, {"type": "null"}]}) == "a string or null"
    assert describe_schema({"type": "array", "items": {"type": "string"}}) == "a list of strings"
    assert describe_schema({"type": "array", "items": {"enum": ["x", "y"]}}) == (
        "a list of values from: x, y"
    )
    assert json_type(True) == "true"
    assert json_type("5") == "string '5'"
