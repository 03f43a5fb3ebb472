"""Any in-house JSON endpoint: a URL, a method, headers, a body template with `{{slots}}`, and
dotted paths into the response for the text, the usage and the served model.

    provider:
      type: http
      url: https://support-bot.internal/api/answer
      headers: {X-Team: support}
      body: {question: "{{input}}", locale: "{{metadata.locale}}"}
      response: {text: data.answer, model: data.model, output_tokens: usage.out}

`response.tool_calls` names the list of the tool calls the answer made, each `{name, arguments}`
or in OpenAI's shape `{id, function: {name, arguments}}` (arguments an object or a JSON string);
an answer with tool calls may have no text.

Slots are the case's fields plus `user` (the rendered template), `system` and `messages` (the
whole conversation in chat format: `body: {messages: "{{messages}}"}` sends it as a list).
"""

from __future__ import annotations

import re
from typing import Any

from canary_eval.models import Completion, ToolCall, Usage
from canary_eval.run.providers.base import (
    CallFailure,
    ChatRequest,
    HttpProvider,
    api_key,
    configured_headers,
)
from canary_eval.run.providers.chat import conversation, tool_calls

_SLOT = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")
_WHOLE = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}$")


class GenericHttpProvider(HttpProvider):
    async def complete(self, request: ChatRequest) -> Completion:
        options = self.config.options
        values = {
            **request.case.fields,
            "user": request.user,
            "system": request.system or "",
            "messages": conversation(request.system, request.user, request.messages),
        }
        body = fill(options.get("body", {"input": "{{user}}"}), values)
        headers = configured_headers(self.config)
        key = api_key(self.config)
        if key:
            headers.setdefault("Authorization", f"Bearer {key}")
        method = str(options.get("method", "POST"))
        url = str(options.get("url") or self.config.base_url)
        if method == "POST":
            data, _ = await self.post_json(url, body, headers)
        else:
            data = await self._send(method, url, body, headers)
        paths = {"text": "text", **options.get("response", {})}
        calls: tuple[ToolCall, ...] = ()
        if "tool_calls" in paths:
            where = f"response path '{paths['tool_calls']}'"
            calls = tool_calls(lookup(data, paths["tool_calls"]), where)
        text = lookup(data, paths["text"])
        if text is None and calls:
            text = ""  # a turn that only calls tools
        if not isinstance(text, str):
            raise CallFailure("malformed_response", f"no text at response path '{paths['text']}'")

        def number(name: str) -> int:
            value = lookup(data, paths[name]) if name in paths else None
            if isinstance(value, int | float) and 0 <= value < 2**53:  # NaN and inf are not
                return int(value)
            return 0

        model = lookup(data, paths["model"]) if "model" in paths else None
        finish = lookup(data, paths["finish_reason"]) if "finish_reason" in paths else None
        return Completion(
            text=text,
            model=str(model) if model is not None else self.config.model or None,
            usage=Usage(number("input_tokens"), number("output_tokens")),
            finish_reason=str(finish) if finish is not None else None,
            tool_calls=calls,
        )

    async def _send(self, method: str, url: str, body: Any, headers: dict[str, str]) -> Any:
        if method == "GET":
            params = body if isinstance(body, dict) else {}
            response = await self.send(method, url, params=params, headers=headers)
        else:
            response = await self.send(method, url, json=body, headers=headers)
        self.check_status(response)
        try:
            return response.json()
        except (ValueError, RecursionError) as exc:
            raise CallFailure("malformed_response", "response body is not JSON") from exc


def fill(template: Any, values: dict[str, Any]) -> Any:
    """Fill `{{slots}}` in every string of a JSON template; a whole-string slot keeps its type."""
    if isinstance(template, dict):
        return {k: fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, values) for v in template]
    if not isinstance(template, str):
        return template
    whole = _WHOLE.match(template)
    if whole:
        return lookup(values, whole.group(1))
    return _SLOT.sub(lambda m: str(lookup(values, m.group(1)) or ""), template)


def lookup(data: Any, path: str) -> Any:
    """`choices[0].message.content` style paths; None where the path does not exist."""
    for part in re.findall(r"[^.\[\]]+", path):
        if isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        elif isinstance(data, dict) and part in data:
            data = data[part]
        else:
            return None
    return data
