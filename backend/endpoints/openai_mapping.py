"""How an OpenAI request becomes a flow call, and a run's output becomes the assistant's answer.

Pure functions over parsed JSON: no database, no HTTP. The rules, as README.md
("OpenAI-compatible API") documents them:

* ``model`` is a published flow's slug, optionally ``slug@<version number>``
  (a version this endpoint has served) or ``slug@live`` / ``slug@latest``
  (the version it serves now).
* Input: a flow whose input schema has a ``messages`` property gets the whole
  conversation as ``{"messages": [{"role", "content"}, ...]}``; a flow whose
  input is a string gets the last user message's text; a flow whose input
  object has one required string property (or, with none required, exactly one
  string property) gets that text there. Anything else cannot be mapped: 422.
* Output: a string output is the assistant's text; any other output is its
  JSON text. ``response_format`` ``json_object`` / ``json_schema`` asks that
  the output be JSON (a JSON string output is parsed) of that shape, else 422.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from backend.engine.canonical import canonical_hash
from backend.engine.schemas import SchemaUnusable, schema_errors, schema_problems

from .openai_errors import OpenAIRefusal

ROLES = ("system", "developer", "user", "assistant", "tool", "function")
TEXT_PARTS = ("text", "input_text", "output_text")
MAX_MESSAGES = 1000
_MODEL = re.compile(r"^(?P<slug>[^@\s]+)(?:@(?P<selector>[^@\s]+))?$")


@dataclass(frozen=True)
class ModelRef:
    name: str  # as the caller wrote it, echoed back in answers
    slug: str
    selector: str | None  # None, "live", "latest", or a version number as digits


@dataclass(frozen=True)
class ResponseFormat:
    kind: str  # text | json_object | json_schema
    schema: dict[str, Any] | None = None
    name: str = ""


@dataclass(frozen=True)
class Conversation:
    model: ModelRef
    messages: list[dict[str, str]]
    stream: bool
    include_usage: bool
    response_format: ResponseFormat
    request_hash: str  # what an Idempotency-Key retry must match


def refuse(message: str, param: str | None, status: int = 400, code: str = "invalid_request") -> OpenAIRefusal:
    return OpenAIRefusal(status, message, param=param, code=code)


def parse_model(value: Any) -> ModelRef:
    if not isinstance(value, str) or not value.strip():
        raise refuse("'model' is required: the slug of a published flow, e.g. \"ask\" or \"ask@3\".", "model")
    match = _MODEL.match(value.strip())
    if match is None:
        raise refuse(f"'{value}' is not a model name: use a flow's slug, optionally @<version> or @live.", "model")
    return ModelRef(name=value.strip(), slug=match["slug"], selector=match["selector"])


def _text_of(content: Any, param: str) -> str:
    """A message's text: a string, or the text parts of a list of parts; other parts cannot reach a flow."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise refuse("A message's content must be a string or a list of text parts.", param)
    texts = []
    for j, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind not in TEXT_PARTS or not isinstance(part.get("text"), str):
            raise refuse(f"Only text parts can reach a flow; part {j} is {kind or type(part).__name__!s}.",
                         f"{param}[{j}]", 422, "unsupported_content")
        texts.append(part["text"])
    return "".join(texts)


def _message(item: Any, param: str) -> dict[str, str]:
    if not isinstance(item, dict):
        raise refuse("Each message must be an object like {\"role\": \"user\", \"content\": \"...\"}.", param)
    role = item.get("role")
    if role not in ROLES:
        raise refuse(f"A message's role must be one of {', '.join(ROLES)}.", f"{param}.role")
    return {"role": role, "content": _text_of(item.get("content"), f"{param}.content")}


def _messages(items: Any, param: str) -> list[dict[str, str]]:
    if not isinstance(items, list) or not items:
        raise refuse(f"'{param}' must be a non-empty list of messages.", param)
    if len(items) > MAX_MESSAGES:
        raise refuse(f"At most {MAX_MESSAGES} messages are accepted.", param, 413, "too_large")
    # Responses input items without a role (function call outputs, reasoning) carry nothing a flow reads.
    return [_message(item, f"{param}[{i}]") for i, item in enumerate(items)
            if not (isinstance(item, dict) and "role" not in item and item.get("type") not in (None, "message"))]


def _flag(doc: dict[str, Any], name: str) -> bool:
    value = doc.get(name, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise refuse(f"'{name}' must be true or false.", name)
    return value


def _schema_format(schema: Any, name: Any, param: str) -> ResponseFormat:
    if not isinstance(schema, dict):
        raise refuse("A json_schema response format needs its 'schema' object.", f"{param}.schema")
    problems = schema_problems(schema, f"{param}.schema")
    if problems:
        raise refuse(f"The response format's schema cannot be used: {problems[0].message}.", problems[0].path)
    return ResponseFormat("json_schema", schema, name if isinstance(name, str) else "")


def _chat_format(value: Any) -> ResponseFormat:
    if value is None:
        return ResponseFormat("text")
    kind = value.get("type") if isinstance(value, dict) else None
    if kind in ("text", "json_object"):
        return ResponseFormat(kind)
    if kind == "json_schema":
        spec = value.get("json_schema")
        if not isinstance(spec, dict):
            raise refuse("A json_schema response format needs 'json_schema': {\"name\", \"schema\"}.",
                         "response_format.json_schema")
        return _schema_format(spec.get("schema"), spec.get("name"), "response_format.json_schema")
    raise refuse("'response_format' must be {\"type\": \"text\" | \"json_object\" | \"json_schema\"}.",
                 "response_format")


def _responses_format(text: Any) -> ResponseFormat:
    if text is None or (isinstance(text, dict) and text.get("format") is None):
        return ResponseFormat("text")
    form = text.get("format") if isinstance(text, dict) else None
    kind = form.get("type") if isinstance(form, dict) else None
    if kind in ("text", "json_object"):
        return ResponseFormat(kind)
    if isinstance(form, dict) and kind == "json_schema":
        return _schema_format(form.get("schema"), form.get("name"), "text.format")
    raise refuse("'text.format' must be {\"type\": \"text\" | \"json_object\" | \"json_schema\"}.", "text.format")


def _object(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise refuse("The body must be a JSON object.", None)
    return doc


def parse_chat(doc: Any) -> Conversation:
    """``POST /v1/chat/completions``: sampling parameters and tools are the flow's business, so they are ignored."""
    doc = _object(doc)
    model = parse_model(doc.get("model"))
    messages = _messages(doc.get("messages"), "messages")
    stream = _flag(doc, "stream")
    options = doc.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise refuse("'stream_options' must be an object like {\"include_usage\": true}.", "stream_options")
    include_usage = bool((options or {}).get("include_usage"))
    return Conversation(model, messages, stream, include_usage, _chat_format(doc.get("response_format")),
                        canonical_hash({"api": "chat.completions", "model": model.name, "messages": messages,
                                        "stream": stream, "response_format": doc.get("response_format")}))


def parse_responses(doc: Any) -> Conversation:
    """``POST /v1/responses``: ``input`` (text or items) after ``instructions`` (a system message)."""
    doc = _object(doc)
    model = parse_model(doc.get("model"))
    if doc.get("previous_response_id") is not None:
        raise refuse("A flow keeps no conversation state: send the whole conversation in 'input'.",
                     "previous_response_id")
    raw = doc.get("input")
    if isinstance(raw, str):
        messages = [{"role": "user", "content": raw}]
    else:
        messages = _messages(raw, "input")
    instructions = doc.get("instructions")
    if instructions is not None:
        if not isinstance(instructions, str):
            raise refuse("'instructions' must be a string.", "instructions")
        messages = [{"role": "system", "content": instructions}, *messages]
    stream = _flag(doc, "stream")
    return Conversation(model, messages, stream, stream, _responses_format(doc.get("text")),
                        canonical_hash({"api": "responses", "model": model.name, "messages": messages,
                                        "stream": stream, "text": doc.get("text")}))


# --------------------------------------------------------------------------- input


def _string_typed(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type")
    return kind == "string" or (isinstance(kind, list) and "string" in kind)


def _last_user_text(messages: list[dict[str, str]]) -> str:
    for message in reversed(messages):
        if message["role"] == "user":
            return message["content"]
    raise refuse("The conversation has no user message to send to the flow.", "messages", 422, "no_user_message")


def _cannot_map(slug: str, why: str) -> OpenAIRefusal:
    return refuse(f"The flow '{slug}' cannot take a conversation: {why}. An OpenAI call fills a flow whose input "
                  "has a 'messages' property, is a string, or has one required string property.",
                  "messages", 422, "input_not_mappable")


def flow_input(messages: list[dict[str, str]], schema: Any, slug: str) -> Any:
    """The flow's input made from the conversation (the rules are in this module's docstring)."""
    schema = schema if isinstance(schema, dict) else {}
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    required = [p for p in schema.get("required") or [] if isinstance(p, str)]
    if "messages" in properties:
        others = [p for p in required if p != "messages"]
        if others:
            raise _cannot_map(slug, f"besides 'messages' it requires {', '.join(others)}")
        return {"messages": messages}
    if _string_typed(schema):
        return _last_user_text(messages)
    if len(required) == 1 and _string_typed(properties.get(required[0])):
        target = required[0]
    elif not required and len([p for p, s in properties.items() if _string_typed(s)]) == 1:
        target = next(p for p, s in properties.items() if _string_typed(s))
    else:
        wanted = ", ".join(required) or ", ".join(properties) or "no named fields"
        raise _cannot_map(slug, f"its input takes {wanted}")
    return {target: _last_user_text(messages)}


def mapping_note(schema: Any) -> str:
    """One sentence for a flow's page: what an OpenAI call's conversation becomes, by the rules above."""
    try:
        probe = flow_input([{"role": "user", "content": ""}], schema, "")
    except OpenAIRefusal:
        return ("This flow's input cannot be filled from a conversation (that needs a 'messages' property, a string, "
                "or one required string property): OpenAI calls get a 422.")
    if isinstance(probe, dict) and "messages" in probe:
        return "The whole conversation becomes input.messages; the flow's output is the assistant's message."
    where = "the flow's input" if isinstance(probe, str) else f"input.{next(iter(probe))}"
    return f"The last user message becomes {where}; the flow's output is the assistant's message."


# --------------------------------------------------------------------------- output


def _mismatch(message: str, run_id: str) -> OpenAIRefusal:
    return refuse(f"{message} (run {run_id}).", "response_format", 422, "output_does_not_fit")


def answer_text(output: Any, form: ResponseFormat, run_id: str) -> str:
    """The assistant message for a run's output, honouring the response format (422 when the output misses it)."""
    if form.kind == "text":
        return output if isinstance(output, str) else json.dumps(output, ensure_ascii=False)
    value = output
    if isinstance(output, str):
        try:
            value = json.loads(output)
        except ValueError:
            raise _mismatch("The flow answered with text, not the JSON the response format asks for", run_id) from None
    if form.kind == "json_object" and not isinstance(value, dict):
        raise _mismatch("The flow's output is not a JSON object", run_id)
    if form.kind == "json_schema" and form.schema is not None:
        try:
            errors = schema_errors(form.schema, value)
        except SchemaUnusable as exc:
            raise refuse(f"The response format's schema cannot be used: {exc}.", "response_format") from None
        if errors:
            first = errors[0]
            where = "/".join(str(p) for p in first.absolute_path) or "the output"
            raise _mismatch(f"The flow's output does not fit the response format's schema at {where}: "
                            f"{first.message}", run_id)
    return output if isinstance(output, str) else json.dumps(value, ensure_ascii=False)


def chat_usage(input_tokens: int, output_tokens: int) -> dict[str, Any]:
    return {"prompt_tokens": input_tokens, "completion_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens}


def responses_usage(input_tokens: int, output_tokens: int) -> dict[str, Any]:
    return {"input_tokens": input_tokens, "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": output_tokens, "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens}
