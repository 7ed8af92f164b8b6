"""Runtime: what every layer may use and none owns. Files written whole or not at all, the
one checkpoint format, the caches that let a later process skip tracing and compiling, runs
over several processes (`jaxnc.runtime.distributed`), and the one module allowed to touch
private internals of JAX (`_internals`, a test per internal).

Nothing here imports any other jaxnc layer but `jaxnc.errors`.
"""

from . import distributed
from ._cache import cache_dir, cached_program, enable_cache, enabled_cache_dir, jitted
from ._checkpoint import Checkpoint, checkpoint_fingerprint
from ._files import (
    atomic_path,
    json_safe,
    write_csv_atomic,
    write_csv_text_atomic,
    write_json_atomic,
)

__all__ = ["distributed", "atomic_path", "json_safe", "write_csv_atomic",
           "write_csv_text_atomic", "write_json_atomic", "Checkpoint", "checkpoint_fingerprint",
           "cache_dir", "enable_cache", "enabled_cache_dir", "cached_program", "jitted"]
