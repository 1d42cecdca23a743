"""Python's cyclic garbage collector paused while partition state is decoded: by a
rebuild (``streams.state.recovery``), and for each world a restore kept encoded
when it is decoded (``streams.state.worlds``)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for a rebuild (or a world's decoding),
    which allocates the partition's state (hundreds of thousands of objects that
    all live on) and nothing cyclic: the collector would scan them again at every
    50,000 allocations. Six partitions' checkpoints after 100,000 events of 1,000 reps
    decoded in 5.2 s with it off, 6.9 s with it on at the worker's thresholds.
    Another thread that pauses it too at most turns it on early.

    A rebuild that succeeds moves what the process holds into the collector's
    permanent generation (``gc.freeze``) before it turns the collector back on:
    turned on, it would otherwise scan all of the new state at the next allocation
    and again as it ages, for nothing (44 of the 248 samples py-spy took of the
    rebuilds after 100,000 events of 1,000 reps, 2.2 s of a restart of 18 s, were in
    the first scan). Frozen objects are still freed as soon as nothing refers to
    them; only a reference cycle that was alive at the freeze is never collected."""
    was = gc.isenabled()
    gc.disable()
    done = False
    try:
        yield
        done = True
    finally:
        if was:
            if done:
                gc.freeze()
            gc.enable()
