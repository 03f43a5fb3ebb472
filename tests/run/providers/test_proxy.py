"""Behind a corporate proxy: the proxy the environment names (`HTTP_PROXY`, `HTTPS_PROXY`,
`ALL_PROXY`, minus `NO_PROXY`) carries the model calls and the judge's calls alike."""

from __future__ import annotations

import asyncio
import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from canary_eval.run.providers.proxies import proxy_for
from canary_eval.scorers.endpoint import Endpoint

from model_server import ModelServer, call_through_engine

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding"}


class ForwardingProxy(ThreadingHTTPServer):
    """A plain HTTP proxy on 127.0.0.1: takes absolute-form requests (`POST http://host/path`),
    forwards them and relays the answers; `seen` holds every request line's target."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.seen: list[str] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Forward(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ForwardingProxy

    def do_POST(self) -> None:
        with self.server.lock:
            self.server.seen.append(self.path)
        target = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        upstream = http.client.HTTPConnection(target.hostname or "", target.port or 80)
        try:
            upstream.request("POST", target.path, body, headers)
            answer = upstream.getresponse()
            data = answer.read()
        finally:
            upstream.close()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in _HOP_BY_HOP | {"content-length"}:
                self.send_header(name, value)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[ForwardingProxy]:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    server = ForwardingProxy()
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def judge(server: ModelServer) -> object:
    payload = {"model": "j", "messages": [{"role": "user", "content": "grade this"}]}
    return asyncio.run(Endpoint(server.base_url, "j").post("chat/completions", payload))


def test_the_model_calls_go_through_the_proxy_the_environment_names(
    proxy: ForwardingProxy, model_server: ModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    outcomes = call_through_engine(model_server, n=12)

    assert [o.completion.text for o in outcomes if o.completion] == [
        f"echo: q{i}" for i in range(12)
    ]
    assert proxy.seen == [f"{model_server.base_url}/chat/completions"] * 12
    assert len(model_server.requests) == 12


def test_no_proxy_sends_straight_to_the_hosts_it_names(
    proxy: ForwardingProxy, model_server: ModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "example.com,127.0.0.1")
    outcomes = call_through_engine(model_server, n=6)

    assert all(o.error is None for o in outcomes)
    assert proxy.seen == []
    assert len(model_server.requests) == 6


def test_the_judge_endpoint_takes_the_same_route_as_the_model(
    proxy: ForwardingProxy, model_server: ModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALL_PROXY", proxy.url)
    judge(model_server)
    assert proxy.seen == [f"{model_server.base_url}/chat/completions"]

    monkeypatch.setenv("no_proxy", "127.0.0.1")
    judge(model_server)
    assert len(proxy.seen) == 1
    assert len(model_server.requests) == 2


def test_which_proxy_a_url_takes(proxy: ForwardingProxy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "proxy.corp:3128")
    monkeypatch.setenv("NO_PROXY", ".internal")
    assert proxy_for("https://api.openai.com/v1") == "http://proxy.corp:3128"
    assert proxy_for("http://api.openai.com/v1") is None  # HTTP_PROXY is not set
    assert proxy_for("https://bot.support.internal/api") is None
    monkeypatch.setenv("NO_PROXY", "*")
    assert proxy_for("https://api.openai.com/v1") is None
