"""The suite's `prompt:` section in every form production keeps a prompt in: `system` +
`template` (the short form), a `messages` list (few-shot turns included), or `file`, the chat
array or `{messages, tools, ...}` object (YAML or JSON) that production itself loads, relative
to the config. Tools, tool choice and response format may sit beside any of them.

Each is checked against `prompt.schema.json` and the tool JSON Schemas are checked as schemas,
so a bad prompt is one line naming the file and key before any model is called.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from canary_eval.errors import ConfigError
from canary_eval.suite.document import Document, KeyPath, format_key, load_document
from canary_eval.suite.schemas import plainly_valid_schema, validate

# What a prompt file may set; anything else in it (model, temperature, ...) is production's own.
FILE_KEYS = ("messages", "tools", "tool_choice", "response_format")


def prompt_fields(
    section: dict[str, Any], doc: Document, base: Path, provider: str
) -> dict[str, Any]:
    """The `PromptConfig` fields of a config's prompt section, its file loaded and checked
    (against what the provider can send, too)."""
    _validate(section, doc, ("prompt",))
    forms: list[str] = [k for k in ("messages", "file") if k in section]
    if "system" in section or "template" in section:
        forms.insert(0, "system/template")
    if len(forms) > 1:
        raise ConfigError(
            f"use one prompt form, not {' and '.join(forms)}",
            path=doc.path,
            line=doc.line_of(("prompt",)),
            key="prompt",
        )
    fields = dict(section)
    if "file" in section:
        path = base / section["file"]
        loaded = load_prompt_file(path)
        clash = sorted(set(loaded) & set(section) - {"messages"})
        if clash:
            raise ConfigError(
                f"set in the prompt file {path.name} already", path=doc.path,
                line=doc.line_of(("prompt", clash[0])), key=f"prompt.{clash[0]}",
            )  # fmt: skip
        fields.update(loaded, file=str(path))
    file = Path(fields["file"]) if "file" in section else None

    def error(message: str, key: KeyPath) -> ConfigError:
        """Name the prompt file for what came from it, else the config's key and line."""
        if file is not None and key[0] not in section:
            return ConfigError(message, path=file, key=format_key(key))
        full = ("prompt", *key)
        return ConfigError(message, path=doc.path, line=doc.line_of(full), key=format_key(full))

    _check_tools(fields, error)
    if provider == "anthropic" and fields.get("response_format", {}).get("type") == "json_object":
        raise error("Anthropic has no json_object mode; use json_schema", ("response_format",))
    for key in ("messages", "tools"):
        if key in fields:
            fields[key] = tuple(fields[key])
    return fields


def load_prompt_file(path: Path) -> dict[str, Any]:
    """A chat array, or an object with `messages` and optionally tools, tool_choice and
    response_format, as OpenAI's and promptfoo's prompt files hold them."""
    doc = load_document(path, ConfigError)
    data = doc.data
    if isinstance(data, list):
        data, prefix = {"messages": data}, ("messages",)
        doc = Document(path, data, {(*prefix, *k): v for k, v in doc.lines.items()})
    elif isinstance(data, dict) and "messages" in data:
        data = {k: v for k, v in data.items() if k in FILE_KEYS}
    else:
        raise ConfigError(
            "a prompt file is a list of {role, content} messages, or a mapping with messages",
            path=path,
            line=1,
        )
    _validate(data, doc, ())
    return dict(data)


def _validate(data: dict[str, Any], doc: Document, prefix: KeyPath) -> None:
    """Check `data` (found at `prefix` in `doc`) against the prompt schema."""
    n = len(prefix)
    lines = {k[n:]: v for k, v in doc.lines.items() if k[:n] == prefix}
    try:
        validate(Document(doc.path, data, lines), "prompt", ConfigError)
    except ConfigError as error:
        key = ".".join(p for p in (format_key(prefix), error.key or "") if p)
        raise ConfigError(error.message, path=error.path, line=error.line, key=key) from None


def _check_tools(fields: dict[str, Any], error: Callable[[str, KeyPath], ConfigError]) -> None:
    """Every tool's parameters must be a JSON Schema, and a named tool choice must exist."""
    names = []
    for i, tool in enumerate(fields.get("tools", ())):
        function = tool["function"]
        names.append(function["name"])
        if plainly_valid_schema(function.get("parameters", {})):
            continue
        import jsonschema  # only for an unusual schema: importing it costs more than the check

        try:
            jsonschema.Draft202012Validator.check_schema(function.get("parameters", {}))
        except jsonschema.SchemaError as exc:
            key = ("tools", i, "function", "parameters")
            raise error(f"not a JSON Schema: {exc.message}", key) from None
    choice = fields.get("tool_choice")
    if isinstance(choice, dict) and choice["function"]["name"] not in names:
        message = f"names tool '{choice['function']['name']}', which the prompt's tools lack"
        raise error(message, ("tool_choice",))
