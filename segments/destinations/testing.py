"""A real webhook receiver on 127.0.0.1 for tests and for trying a destination locally.

with WebhookReceiver(statuses=[500, 200]) as receiver:
    destination.url = receiver.url
    ...
    receiver.requests[0].headers["X-CXO-Signature"]
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class ReceivedRequest:
    path: str
    headers: Message  # case-insensitive, as HTTP headers are
    body: bytes


@dataclass
class WebhookReceiver:
    """An ``http.server`` in a thread on a free port that records every POST.

    ``statuses`` are answered in order (the last one repeats); ``delay`` seconds
    are slept before answering (to test timeouts).
    """

    statuses: list[int] = field(default_factory=lambda: [200])
    delay: float = 0.0
    requests: list[ReceivedRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status = receiver._record(ReceivedRequest(self.path, self.headers, body))
                if receiver.delay:
                    time.sleep(receiver.delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b"{}")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up waiting (a timeout test)

            def log_message(self, format, *args) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def _record(self, request: ReceivedRequest) -> int:
        with self._arrived:
            index = len(self.requests)
            self.requests.append(request)
            self._arrived.notify_all()
        return self.statuses[min(index, len(self.statuses) - 1)]

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/hook"

    def wait_for(self, predicate: Callable[[list[ReceivedRequest]], bool], timeout: float = 10.0) -> bool:
        """Wait until ``predicate(requests)`` holds; False when ``timeout`` seconds passed first."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while not predicate(self.requests):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._arrived.wait(remaining)
            return True

    def __enter__(self) -> "WebhookReceiver":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


def make_audience(name: str, **fields):
    """An audience for destination tests (a list audience: no rule to evaluate)."""
    from django.apps import apps

    audience_model = apps.get_model("segments", "Audience")
    return audience_model.objects.create(name=name, **fields)


def add_members(audience, profiles, *, exited: bool = False) -> None:
    """Open (or, with ``exited``, closed) memberships of ``profiles`` in ``audience``."""
    from django.apps import apps
    from django.utils import timezone

    membership_model = apps.get_model("segments", "Membership")
    now = timezone.now()
    membership_model.objects.bulk_create(
        membership_model(
            audience=audience, profile=profile, entered_at=now, exited_at=now if exited else None
        )
        for profile in profiles
    )
