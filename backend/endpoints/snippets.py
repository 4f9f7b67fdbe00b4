"""Copy-paste examples for the "Use this endpoint" panel: an example input and curl / Python / JavaScript calls.

The example input is built from the graph's input schema (its ``examples``,
``default``, ``enum`` or a placeholder per type), so a snippet is a valid
call as pasted, with the key read from ``$PATCHBAY_API_KEY``.
"""
from __future__ import annotations

import json
import pprint
from typing import Any

from .openai_mapping import mapping_note  # the one place the conversation → input rules live

MAX_DEPTH = 6


def example_value(schema: Any, name: str = "value", depth: int = 0) -> Any:
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return None
    for key in ("examples", "enum"):
        if isinstance(schema.get(key), list) and schema[key]:
            return schema[key][0]
    for key in ("const", "default", "example"):
        if key in schema:
            return schema[key]
    for key in ("anyOf", "oneOf", "allOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            return example_value(schema[key][0], name, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or (kind is None and "properties" in schema):
        properties = schema.get("properties") or {}
        wanted = [p for p in properties if p in (schema.get("required") or [])] or list(properties)
        return {p: example_value(properties[p], p, depth + 1) for p in wanted}
    if kind == "array":
        item = example_value(schema.get("items") or {}, name, depth + 1)
        return [] if item is None else [item]
    if kind == "integer":
        return max(0, int(schema.get("minimum", 0)))
    if kind == "number":
        return float(schema.get("minimum", 0))
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    if kind == "string" or kind is None:
        return str(schema.get("title") or name).strip() or "text"
    return None


def example_input(input_schema: Any) -> Any:
    value = example_value(input_schema or {"type": "object"}, "input")
    return {} if value is None else value


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def snippets(run_url: str, example: Any, input_schema: Any = None) -> dict[str, str]:
    body = json.dumps({"input": example}, ensure_ascii=False)
    stream_body = json.dumps({"input": example, "mode": "stream"}, ensure_ascii=False)
    python_input = pprint.pformat(example, width=80, sort_dicts=False).replace("\n", "\n    ")
    curl = (f"curl -sS -X POST {run_url} \\\n"
            "  -H \"Authorization: Bearer $PATCHBAY_API_KEY\" \\\n"
            "  -H \"Content-Type: application/json\" \\\n"
            f"  -d {_shell_quote(body)}")
    curl_stream = (f"curl -N -sS -X POST {run_url} \\\n"
                   "  -H \"Authorization: Bearer $PATCHBAY_API_KEY\" \\\n"
                   "  -H \"Content-Type: application/json\" \\\n"
                   f"  -d {_shell_quote(stream_body)}")
    python = ("import os\n\nimport requests\n\n"
              "response = requests.post(\n"
              f"    {json.dumps(run_url)},\n"
              "    headers={\"Authorization\": f\"Bearer {os.environ['PATCHBAY_API_KEY']}\"},\n"
              f"    json={{\"input\": {python_input}}},\n"
              "    timeout=60,\n"
              ")\n"
              "response.raise_for_status()\n"
              "result = response.json()  # 202 + status_url if the run outlasts the sync timeout\n"
              "print(result[\"status\"], result.get(\"output\"))\n")
    javascript = (f"const response = await fetch({json.dumps(run_url)}, {{\n"
                  "  method: \"POST\",\n"
                  "  headers: {\n"
                  "    Authorization: `Bearer ${process.env.PATCHBAY_API_KEY}`,\n"
                  "    \"Content-Type\": \"application/json\",\n"
                  "  },\n"
                  f"  body: JSON.stringify({body}),\n"
                  "});\n"
                  "const result = await response.json();\n"
                  "console.log(result.status, result.output);\n")
    return {"curl": curl, "curl_stream": curl_stream, "python": python, "javascript": javascript,
            **openai_snippets(run_url, input_schema)}


def openai_snippets(run_url: str, input_schema: Any = None) -> dict[str, str]:
    """The same flow through any OpenAI client: base URL ``<host>/v1``, model = the flow's slug (README.md),
    each headed by what the conversation becomes for this flow's input."""
    host, _, rest = run_url.partition("/api/v1/flows/")
    slug, base_url = rest.split("/", 1)[0], f"{host}/v1"
    note = mapping_note(input_schema or {"type": "object"})
    body = json.dumps({"model": slug, "messages": [{"role": "user", "content": "Hello"}]})
    curl = (f"# {note}\n"
            f"curl -sS -X POST {base_url}/chat/completions \\\n"
            "  -H \"Authorization: Bearer $PATCHBAY_API_KEY\" \\\n"
            "  -H \"Content-Type: application/json\" \\\n"
            f"  -d {_shell_quote(body)}")
    python = (f"# {note}\nimport os\n\nfrom openai import OpenAI\n\n"
              f"client = OpenAI(base_url={json.dumps(base_url)}, api_key=os.environ[\"PATCHBAY_API_KEY\"])\n"
              "completion = client.chat.completions.create(\n"
              f"    model={json.dumps(slug)},\n"
              "    messages=[{\"role\": \"user\", \"content\": \"Hello\"}],\n"
              ")\n"
              "print(completion.choices[0].message.content)\n")
    javascript = (f"// {note}\nimport OpenAI from \"openai\";\n\n"
                  f"const client = new OpenAI({{ baseURL: {json.dumps(base_url)}, "
                  "apiKey: process.env.PATCHBAY_API_KEY });\n"
                  "const completion = await client.chat.completions.create({\n"
                  f"  model: {json.dumps(slug)},\n"
                  "  messages: [{ role: \"user\", content: \"Hello\" }],\n"
                  "});\n"
                  "console.log(completion.choices[0].message.content);\n")
    return {"openai_curl": curl, "openai_python": python, "openai_javascript": javascript}
