"""The meeting before JAX's own: every process of a run connects to process 0 over plain TCP
within the timeout, so that a missing process is one clear error (JAX aborts a process that
cannot register with its coordinator in time, with a C++ stack trace and no Python error)."""

from __future__ import annotations

import time

from ..errors import JaxncError

__all__ = ["DistributedError", "meet", "rendezvous_port"]


class DistributedError(JaxncError, RuntimeError):
    """A process of a multi-process run did not join, died or stopped answering."""


def rendezvous_port(coordinator: str) -> int:
    """The TCP port of the meeting before JAX's own: the coordinator's port + 1 (- 1 for
    65535)."""
    port = int(coordinator.rpartition(":")[2])
    return port + 1 if port < 65535 else port - 1


def meet(coordinator: str, n: int, process_id: int, seconds: float) -> None:
    """Every process meets process 0 on the coordinator's port + 1 within `seconds`; raise
    `DistributedError` naming who is missing. Process 0 listens, the others connect (retrying
    until the deadline) and send their index; process 0 answers each once all are in."""
    import socket

    host, port = coordinator.rpartition(":")[0], rendezvous_port(coordinator)
    deadline = time.monotonic() + seconds
    if process_id == 0:
        joined = {}
        try:
            server = (socket.create_server(("", port), family=socket.AF_INET6,
                                           dualstack_ipv6=True)
                      if socket.has_dualstack_ipv6() else socket.create_server(("", port)))
        except OSError as err:
            raise DistributedError(f"process 0 of {n}: cannot listen on port {port} (next to "
                                   f"the coordinator's {coordinator}): {err}") from None
        with server:
            while len(joined) < n - 1:
                server.settimeout(max(deadline - time.monotonic(), 0.001))
                try:
                    conn, _ = server.accept()
                    conn.settimeout(max(deadline - time.monotonic(), 0.001))
                    joined[int(conn.recv(16).decode())] = conn
                except (TimeoutError, ValueError, OSError):
                    if time.monotonic() >= deadline:
                        missing = sorted(set(range(1, n)) - set(joined))
                        for c in joined.values():
                            c.close()
                        raise DistributedError(
                            f"process 0 of {n}: process(es) {missing} did not join within "
                            f"{seconds} s (listening on port {port}, next to the "
                            f"coordinator's {coordinator})") from None
            for c in joined.values():
                try:
                    c.sendall(b"go")
                except OSError:  # it gave up meanwhile; JAX's join will say so
                    pass
                c.close()
        return
    while True:
        try:
            with socket.create_connection((host, port), timeout=1.0) as conn:
                conn.sendall(str(process_id).encode())
                conn.settimeout(max(deadline - time.monotonic(), 0.001))
                if conn.recv(2) == b"go":
                    return
        except OSError:
            pass
        if time.monotonic() >= deadline:
            raise DistributedError(f"process {process_id} of {n}: the run did not assemble "
                                   f"within {seconds} s (process 0 at {host}:{port}, next to "
                                   f"the coordinator's port, was not reached or did not see "
                                   f"every process)")
        time.sleep(0.2)
