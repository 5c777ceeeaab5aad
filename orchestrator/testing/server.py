"""The scripted model server: the Responses API on 127.0.0.1, played from a scenario.

The real codex binary, configured by :func:`prepare_codex_home`, sends its
``POST /v1/responses`` requests here and gets the events a scenario scripts:
shell commands, a patch, a final message or structured answer, or a fault.
Every request is recorded for assertions. It listens on loopback only.

Use :class:`ScriptedModelServer` (sync, event loop in a background thread)
or ``async with serve(scenario) as server`` inside an event loop.
"""

from __future__ import annotations

import json
import math
import signal
import tempfile
import threading
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import anyio
import structlog
from anyio.abc import SocketAttribute, SocketStream
from anyio.from_thread import start_blocking_portal
from anyio.streams.buffered import BufferedByteReceiveStream
from pydantic import BaseModel

from orchestrator.testing import http, sse
from orchestrator.testing.codex_home import prepare_codex_home
from orchestrator.testing.player import Plan, Player
from orchestrator.testing.scenario import Scenario
from orchestrator.testing.turns import read_turn
from orchestrator.ui import console

log = structlog.get_logger()

_CONNECTION_ERRORS = (
    anyio.EndOfStream,
    anyio.IncompleteRead,
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
    ConnectionError,
)


class RecordedRequest(BaseModel):
    """One request the server received, and how it answered."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    rule: str | None  # name of the rule that answered; None when none matched
    prompt: str
    round: int
    status: int


class ModelServer:
    """The server's state: scenario player and the requests received."""

    def __init__(self, scenario: Scenario, port: int) -> None:
        self.scenario = scenario
        self.player = Player(scenario)
        self.url = f"http://127.0.0.1:{port}/v1"
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far."""
        with self._lock:
            return list(self._requests)

    def fired(self) -> dict[str, int]:
        """How many turns each rule has started, by rule name."""
        return self.player.fired()

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    async def handle(self, stream: SocketStream) -> None:
        """Serve one connection: requests until the client or a stream closes it."""
        async with stream:
            reader = BufferedByteReceiveStream(stream)
            try:
                while await self._one(stream, reader):
                    pass
            except _CONNECTION_ERRORS:
                return

    async def _one(self, stream: SocketStream, reader: BufferedByteReceiveStream) -> bool:
        """Answer one request; False when the connection is done."""
        try:
            request = await http.read_request(reader)
        except (http.BadRequest, anyio.DelimiterNotFound, ValueError) as exc:
            await http.send_json(stream, 400, http.error_payload(400, str(exc)))
            return False
        if request.method != "POST" or not request.path.rstrip("/").endswith("/responses"):
            message = (
                f"the scripted model serves POST /v1/responses, not {request.method} {request.path}"
            )
            await http.send_json(stream, 404, http.error_payload(404, message))
            return True
        encoding = request.headers.get("content-encoding", "identity")
        if encoding != "identity":
            message = f"compressed request bodies (content-encoding: {encoding}) are not supported"
            await http.send_json(stream, 400, http.error_payload(400, message))
            return True
        try:
            body = json.loads(request.body)
            if not isinstance(body, dict):
                raise ValueError("the body is not a JSON object")
        except ValueError as exc:
            await http.send_json(stream, 400, http.error_payload(400, f"bad JSON body: {exc}"))
            return True
        view = read_turn(body, request.headers)
        plan = self.player.plan(view)
        self._record(
            RecordedRequest(
                path=request.path,
                headers=request.headers,
                body=body,
                rule=plan.rule,
                prompt=view.prompt,
                round=view.round,
                status=plan.status,
            )
        )
        log.info(
            "model_request", rule=plan.rule, round=view.round, status=plan.status, end=plan.ending
        )
        if plan.delay > 0:
            await anyio.sleep(plan.delay)
        if plan.status != 200:
            extra = {}
            if plan.retry_after is not None:
                extra["retry-after"] = _seconds(plan.retry_after)
            body = plan.body or http.error_payload(plan.status, plan.message)
            await http.send_json(stream, plan.status, body, extra)
            return True
        await self._stream(stream, reader, plan)
        return False

    async def _stream(
        self, stream: SocketStream, reader: BufferedByteReceiveStream, plan: Plan
    ) -> None:
        response_id = self.player.next_id("resp")
        model = self.scenario.model
        await http.start_event_stream(stream)
        await stream.send(sse.encode(sse.created(response_id, model)))
        for index, item in enumerate(plan.items):
            for event in sse.item_events(item, index):
                await stream.send(sse.encode(event))
        if plan.ending == "complete":
            final = sse.completed(response_id, model, plan.items, self.scenario.usage)
            await stream.send(sse.encode(final))
        elif plan.ending == "hang":
            while True:  # silent until the client gives up and closes
                await reader.receive()


def _seconds(value: float) -> str:
    """Retry-After in whole seconds: codex 0.169 ignores a fractional value."""
    return str(max(0, math.ceil(value)))


@asynccontextmanager
async def serve(scenario: Scenario) -> AsyncIterator[ModelServer]:
    """Serve ``scenario`` on a free loopback port for the duration of the block."""
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(SocketAttribute.local_port)  # noqa: S610 (anyio, not Django)
    server = ModelServer(scenario, port)
    log.info("model_server_started", url=server.url, rules=len(scenario.rules))
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, server.handle)
        try:
            yield server
        finally:
            tg.cancel_scope.cancel()
            log.info("model_server_stopped", url=server.url, requests=len(server.requests))


class ScriptedModelServer:
    """The scripted model server as a sync context manager (loop in a background thread)."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self._stack = ExitStack()
        self._server: ModelServer | None = None

    def __enter__(self) -> ScriptedModelServer:
        try:
            portal = self._stack.enter_context(start_blocking_portal())
            self._server = self._stack.enter_context(
                portal.wrap_async_context_manager(serve(self.scenario))
            )
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stack.close()

    @property
    def _running(self) -> ModelServer:
        if self._server is None:
            raise RuntimeError("the scripted model server is not running (use it in a with block)")
        return self._server

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/v1``: the codex provider's base_url."""
        return self._running.url

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far."""
        return self._running.requests

    def fired(self) -> dict[str, int]:
        """How many turns each rule has started, by rule name."""
        return self._running.fired()

    def codex_env(self, home: Path) -> dict[str, str]:
        """Prepare ``home`` as a CODEX_HOME for this server; the env vars to add."""
        return prepare_codex_home(home, base_url=self.url, model=self.scenario.model)


def load_scenario(path: Path) -> Scenario:
    """Load a scenario file, with errors that name the file (see :meth:`Scenario.load`)."""
    return Scenario.load(path)


async def _serve_until_signal(scenario: Scenario, home: Path) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with serve(scenario) as server:
            env = prepare_codex_home(home, base_url=server.url, model=scenario.model)
            console.out(f"model server: {server.url}")
            console.out(f"CODEX_HOME: {home}")
            console.out("environment for codex:")
            for key, value in env.items():
                console.out(f"  export {key}={value}")
            async for signum in signals:
                log.info("model_server_signal", signal=signal.Signals(signum).name)
                break


def serve_command(scenario_path: Path, codex_home: Path | None) -> int:
    """``orchestrator model-server``: serve until SIGINT or SIGTERM."""
    scenario = load_scenario(scenario_path)
    if codex_home is not None:
        anyio.run(_serve_until_signal, scenario, codex_home.resolve())
        return 0
    with tempfile.TemporaryDirectory(prefix="orchestrator-codex-home-") as tmp:
        anyio.run(_serve_until_signal, scenario, Path(tmp))
    return 0
