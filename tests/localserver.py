"""A real HTTP server on 127.0.0.1 for the download tests: good files, a 404, a dropped link."""

from __future__ import annotations

import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB, several chunks
SHA256 = "sha256:" + hashlib.sha256(PAYLOAD).hexdigest()


class Handler(BaseHTTPRequestHandler):
    requests: list[str] = []  # every path asked for, so a test can tell nobody called
    extra: dict[str, bytes] = {}  # more files a test wants served
    login: str | None = None  # when set, every request must carry this Authorization header
    authorizations: list[str | None] = []  # the Authorization header of every request

    def do_GET(self):  # noqa: N802 (the name http.server calls)
        Handler.requests.append(self.path)
        Handler.authorizations.append(self.headers.get("Authorization"))
        if Handler.login is not None and self.headers.get("Authorization") != Handler.login:
            self.send_error(401, "Unauthorized")
        elif self.path in Handler.extra:
            self._send_headers(200, len(Handler.extra[self.path]))
            self.wfile.write(Handler.extra[self.path])
        elif self.path == "/file.bin":
            self._send_headers(200, len(PAYLOAD))
            self.wfile.write(PAYLOAD)
        elif self.path == "/drops-midway.bin":
            self._send_headers(200, len(PAYLOAD))
            self.wfile.write(PAYLOAD[: len(PAYLOAD) // 3])
            self.close_connection = True
        else:
            self.send_error(404, "Not Found")

    def _send_headers(self, status: int, length: int):
        self.send_response(status)
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
