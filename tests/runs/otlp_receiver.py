"""A stand-alone OTLP/HTTP receiver for tests: decodes each POSTed protobuf and appends it, as JSON, to a file.

    python -m tests.runs.otlp_receiver <port file> <output file>

Writes its port to <port file> once listening. Each line of <output file> is
{"path", "content_type", "headers", "request"}: the decoded ExportTraceServiceRequest (protobuf JSON mapping).
"""
from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


def main(port_file: str, out_file: str) -> None:
    out = Path(out_file)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)  # a body that is not the protobuf raises: the test sees no line
            line = {"path": self.path, "content_type": self.headers.get("Content-Type"),
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "request": json_format.MessageToDict(request)}
            with out.open("a") as f:
                f.write(json.dumps(line) + "\n")
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Path(port_file).write_text(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
