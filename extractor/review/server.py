"""Serving the review app with waitress (a production WSGI server; Flask's own is for development).

waitress is pure Python, multi-threaded, has no C extensions or system dependencies and runs the
same on Linux, macOS and Windows; it buffers requests and responses so one slow client cannot
block the others. ``serve`` refuses to listen beyond loopback without a reviewer token.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

from extractor.errors import InputError, StoreError
from extractor.review.app import LOOPBACK_HOSTS, ForestPlot, create_app
from extractor.review.store import Store


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(store: Store, *, host: str = "127.0.0.1", port: int = 8000, token: str | None = None,
          threads: int = 8, forest_plot: ForestPlot | None = None,
          announce: Callable[[str], None] = print) -> None:
    """Serve the review app until interrupted; ``port=0`` picks a free port.

    ``announce`` receives one line with the address once the server listens.
    """
    from waitress import create_server

    loopback = is_loopback(host)
    if not loopback and not token:
        raise InputError(f"listening on {host} exposes the review page to the network: give a "
                         "reviewer token with --token (or EXTRACTOR_REVIEW_TOKEN)")
    app = create_app(store, token=token, forest_plot=forest_plot,
                     trusted_hosts=LOOPBACK_HOSTS if loopback else None)
    try:
        server = create_server(app, host=host, port=port, threads=threads, ident="extractor-review",
                               clear_untrusted_proxy_headers=True)
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    except socket.gaierror as exc:
        raise InputError(f"cannot listen on {host}: {exc}") from exc
    real_port = server.effective_port
    shown = f"[{host}]" if ":" in host else host
    announce(f"Reviewing {store.path} at http://{shown}:{real_port}/  (Ctrl+C stops)")
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        if isinstance(store, Store):
            store.close()


__all__ = ["StoreError", "is_loopback", "serve"]
