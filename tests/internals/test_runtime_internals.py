"""Internals of the runtime layer (see tests/internals/README.md): the TCP meeting before JAX's
own, which `initialize` reaches only with several processes."""

import time

import pytest
from conftest import free_port

from jaxnc.runtime import distributed
from jaxnc.runtime._meeting import meet


def test_a_missing_process_is_one_error_within_the_timeout():
    port = free_port()
    t0 = time.monotonic()
    with pytest.raises(distributed.DistributedError, match=r"process\(es\) \[1, 2\] did not"):
        meet(f"localhost:{port}", 3, 0, 1.0)  # nobody else comes
    with pytest.raises(distributed.DistributedError, match="process 1 of 2: the run did not"):
        meet(f"localhost:{port}", 2, 1, 1.0)  # no process 0
    assert time.monotonic() - t0 < 4.0  # 1 s each, plus a retry interval
