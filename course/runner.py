"""``course run N``: serve a stage live, with synthetic traffic, faults and a status line.

The stage runs in this process on an in-process broker (``memory://course-run``). A thread
publishes ``email`` messages at a steady rate (plus an optional burst); fault options turn the
fake broker's and email provider's knobs. A status line shows what the service is doing.

The status line is updated by a task on the **same event loop** as the app, on purpose: when a
stage blocks the loop (stage 03), the line freezes too, and the lag it shows afterwards is the
loop's sleep overshoot measured by :class:`course.probes.LoopLagProbe`.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import uvicorn
from rich.console import Console
from rich.live import Live
from rich.logging import RichHandler
from rich.text import Text

from fakemq import BrokerAdmin, ClientConfiguration, Credentials, EmailProvider, Message, Producer

from .probes import LoopLagProbe
from .stages import ROOT, Stage

ENDPOINT = "memory://course-run"
TOPIC = "email"
STATUS_INTERVAL = 0.25
LAG_WINDOW = 1.0


@dataclass
class RunOptions:
    """What ``course run`` was asked for."""

    stage: Stage
    host: str = "127.0.0.1"
    port: int = 8000
    rate: float = 5.0
    burst: int = 0
    email_latency: float | None = 0.05
    hang_rate: float | None = None
    failure_rate: float | None = None
    broker_latency: float | None = None
    duration: float | None = None
    log_level: str = "INFO"
    access_log: bool = True


class Traffic(threading.Thread):
    """Publish JSON email orders to ``topic``: ``burst`` at once, then ``rate`` per second."""

    def __init__(self, endpoint: str, topic: str, rate: float, burst: int) -> None:
        super().__init__(name="course-run-traffic", daemon=True)
        self.endpoint = endpoint
        self.topic = topic
        self.rate = rate
        self.burst = burst
        self.published = 0
        self.error: str | None = None
        self._stopping = threading.Event()

    def _send(self, producer: Producer) -> None:
        number = self.published + 1
        order = {
            "order_id": f"run-{number}",
            "to": f"customer{number}@example.com",
            "subject": f"Your order run-{number}",
            "body": "Thank you for your order.",
        }
        message = Message()
        message.topic = self.topic
        message.body = json.dumps(order).encode()
        message.keys = order["order_id"]
        producer.send(message)
        self.published = number

    def run(self) -> None:
        """Publish until :meth:`stop`; an error stops the traffic and is kept in ``error``."""
        configuration = ClientConfiguration(self.endpoint, Credentials())
        producer = Producer(configuration, topics=[self.topic])
        try:
            producer.startup()
            for _ in range(self.burst):
                if self._stopping.is_set():
                    return
                self._send(producer)
            next_send = time.monotonic()
            while not self._stopping.is_set():
                if self.rate <= 0:
                    self._stopping.wait(0.5)
                    continue
                self._send(producer)
                next_send += 1 / self.rate
                self._stopping.wait(max(0.0, next_send - time.monotonic()))
        except Exception as error:  # shown on the status line; the demo goes on
            self.error = f"{type(error).__name__}: {error}"
        finally:
            if producer.is_running:
                producer.shutdown()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to stop and wait for it (bounded)."""
        self._stopping.set()
        if self.is_alive():
            self.join(timeout)


@dataclass
class Status:
    """One reading of the service, shown on the status line."""

    elapsed: float
    published: int
    processed: int
    email_errors: int
    in_flight: int
    """Messages received from the broker and not acked yet (all groups of the topic)."""
    ready: int
    """Messages waiting on the broker (the backlog)."""
    queue_depth: int | None
    tasks: int
    lag: float
    max_lag: float

    def render(self) -> Text:
        """The status line; the lag turns yellow above 20 ms and red above 100 ms."""
        queue = "–" if self.queue_depth is None else str(self.queue_depth)
        line = Text(
            f"{self.elapsed:6.1f} s │ published {self.published} │ processed {self.processed} "
            f"│ in flight {self.in_flight} │ backlog {self.ready} │ queue {queue} │ tasks "
            f"{self.tasks} │ ",
            style="cyan",
        )
        lag_style = "bold red" if self.lag > 0.1 else "yellow" if self.lag > 0.02 else "green"
        line.append(f"loop lag {self.lag * 1000:.0f} ms", style=lag_style)
        line.append(f" (max {self.max_lag * 1000:.0f})", style="cyan")
        errors_style = "bold red" if self.email_errors else "cyan"
        line.append(" │ ", style="cyan")
        line.append(f"email errors {self.email_errors}", style=errors_style)
        return line


def _topic_of(app: Any) -> str:
    settings = getattr(app.state, "settings", None)
    return getattr(settings, "topic", TOPIC)


def read_status(
    app: Any, traffic: Traffic, admin: BrokerAdmin, email: EmailProvider, started: float
) -> dict[str, Any]:
    """Read the counters for the status line (everything except the loop lag)."""
    topic = _topic_of(app)
    groups = admin.stats().get("groups", {})
    in_flight = sum(counts.get(topic, {}).get("in_flight", 0) for counts in groups.values())
    ready = sum(counts.get(topic, {}).get("ready", 0) for counts in groups.values())
    queue = getattr(app.state, "queue", None)
    email_stats = email.stats()
    errors = sum(email_stats.get(key, 0) for key in ("rate_limited", "failed", "timeouts"))
    return {
        "elapsed": time.monotonic() - started,
        "published": traffic.published,
        "processed": email_stats.get("accepted", 0),
        "email_errors": errors,
        "in_flight": in_flight,
        "ready": ready,
        "queue_depth": queue.qsize() if hasattr(queue, "qsize") else None,
        "tasks": len(asyncio.all_tasks()),
    }


def apply_faults(options: RunOptions, endpoint: str = ENDPOINT) -> list[str]:
    """Turn the fake email provider's and broker's knobs; describe what was set."""
    knobs = {
        "latency": options.email_latency,
        "hang_rate": options.hang_rate,
        "failure_rate": options.failure_rate,
    }
    knobs = {name: value for name, value in knobs.items() if value is not None}
    described = []
    if knobs:
        EmailProvider(endpoint).configure(**knobs)
        described += [f"email {name}={value}" for name, value in knobs.items()]
    if options.broker_latency is not None:
        BrokerAdmin(endpoint).set_faults(receive_latency=options.broker_latency)
        described.append(f"broker receive_latency={options.broker_latency}")
    return described


def load_app(stage: Stage, endpoint: str = ENDPOINT) -> Any:
    """``create_app()`` of the stage, with its MQ and email endpoints set to ``endpoint``."""
    os.environ["MQ_ENDPOINTS"] = endpoint
    os.environ["EMAIL_ENDPOINT"] = endpoint
    if str(ROOT) not in sys.path:  # stages written after the editable install
        sys.path.insert(0, str(ROOT))
    module = importlib.import_module(f"{stage.package}.app")
    return module.create_app()


def _setup_logging(console: Console, level: str, live: bool) -> None:
    handler: logging.Handler
    if live:
        handler = RichHandler(console=console, show_path=False, markup=False)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)


class Runner:
    """Serve one stage with traffic and a status line; see :func:`run`."""

    def __init__(self, options: RunOptions, console: Console) -> None:
        self.options = options
        self.console = console
        self.live_mode = console.is_terminal
        self.traffic = Traffic(ENDPOINT, TOPIC, options.rate, options.burst)
        self.server: uvicorn.Server | None = None
        self.started = time.monotonic()

    def _url(self, server: uvicorn.Server) -> str:
        host, port = self.options.host, self.options.port
        try:
            host, port = server.servers[0].sockets[0].getsockname()[:2]
        except (AttributeError, IndexError, OSError):
            pass
        return f"http://{host}:{port}"

    async def _status_loop(self, app: Any, show: Callable[[Text], None]) -> None:
        admin, email = BrokerAdmin(ENDPOINT), EmailProvider(ENDPOINT)
        probe = LoopLagProbe(interval=0.02)
        probe.start()
        window_started, window_lag, max_lag = time.monotonic(), 0.0, 0.0
        last_print = 0.0
        try:
            while True:
                await asyncio.sleep(STATUS_INTERVAL)
                now = time.monotonic()
                if now - window_started >= LAG_WINDOW:
                    window_lag = (await probe.stop()).max_lag
                    probe.start()
                    window_started = now
                lag = max(window_lag, probe.current_max_lag)
                max_lag = max(max_lag, lag)
                counters = read_status(app, self.traffic, admin, email, self.started)
                line = Status(**counters, lag=lag, max_lag=max_lag).render()
                if self.traffic.error:
                    line.append(f" │ traffic stopped: {self.traffic.error}", style="red")
                if self.live_mode or now - last_print >= 1.0:
                    show(line)
                    last_print = now
        finally:
            await probe.stop()

    async def _after_start(self, server: uvicorn.Server, app: Any, live: Live | None) -> None:
        while not server.started:  # noqa: ASYNC110 (uvicorn offers no event for this)
            await asyncio.sleep(0.02)
        url = self._url(server)
        self.console.print(f"[bold green]stage {self.options.stage.label}[/] serving on {url}")
        self.console.print(
            f"  try: curl {url}/health   ·   traffic {self.options.rate:g}/s to topic "
            f"'{TOPIC}'"
            + (f", burst {self.options.burst}" if self.options.burst else "")
            + "   ·   Ctrl-C stops",
            markup=False,
        )

        def show(line: Text) -> None:
            if live is not None:
                live.update(line, refresh=True)
            else:
                print(line.plain, flush=True)

        tasks = [asyncio.create_task(self._status_loop(app, show), name="course-run-status")]
        if self.options.duration is not None:
            tasks.append(asyncio.create_task(self._stop_after(server, self.options.duration)))
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()

    async def _stop_after(self, server: uvicorn.Server, seconds: float) -> None:
        await asyncio.sleep(seconds)
        server.should_exit = True

    async def serve(self) -> int:
        """Serve until Ctrl-C or ``duration``; 0 on a clean stop, 1 if startup failed."""
        options = self.options
        faults = apply_faults(options)
        app = load_app(options.stage)
        if faults:
            self.console.print("faults: " + ", ".join(faults), style="yellow")
        config = uvicorn.Config(
            app,
            host=options.host,
            port=options.port,
            log_config=None,
            access_log=options.access_log,
            timeout_graceful_shutdown=5,
        )
        server = self.server = uvicorn.Server(config)
        live = Live(console=self.console, auto_refresh=False) if self.live_mode else None
        if live is not None:
            live.start()
        watcher = asyncio.create_task(self._after_start(server, app, live))
        self.started = time.monotonic()
        self.traffic.start()  # at once: a stage that blocks its loop may never finish startup
        try:
            await server.serve()
        finally:
            watcher.cancel()
            self.traffic.stop()
            if live is not None:
                live.stop()
        return 0 if server.started else 1


def run(options: RunOptions, console: Console | None = None) -> int:
    """Serve ``options.stage`` until Ctrl-C or ``options.duration``; the exit code."""
    console = console or Console()
    runner = Runner(options, console)
    _setup_logging(console, options.log_level, runner.live_mode)
    try:
        code = asyncio.run(runner.serve())
    except KeyboardInterrupt:
        code = 0
    except SystemExit as exit_:  # uvicorn exits when it cannot bind or the lifespan fails
        console.print(
            f"[red]error:[/] the server did not start (exit {exit_.code}); see the log above"
        )
        return 1
    finally:
        runner.traffic.stop()
    if code == 0:
        console.print(
            f"stopped after {time.monotonic() - runner.started:.1f} s; published "
            f"{runner.traffic.published} messages"
        )
    else:
        console.print("[red]error:[/] the server did not start; see the log above")
    return code
