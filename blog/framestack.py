"""Room on CPython 3.11's frame stack, so that deep rendering does not map memory.

CPython keeps the frames of Python calls in chunks of at least 16 KB. When
the frame at the start of a chunk returns, 3.11 unmaps the chunk at once,
and the next call that needs it maps a fresh one (python/cpython#142183;
CPython since keeps one spare chunk, 3.11 does not). A page is rendered a
hundred or more calls deep, Django's template nodes calling one another: a
chunk border that falls where a template loops over its nodes is crossed
down and up again for every node. A gunicorn worker serving an uncached
post page mapped and unmapped 16 KB about a hundred times a request, and
every fresh mapping is zeroed pages and page faults: kernel time that no
profile of the Python shows. Under wrk the post page with 50 comments cost
its workers 3,757 µs of CPU a request, and 2,904 µs for the code before
the theme, which happened to cross no border in a loop.

`with_room(run)` calls `run()` under one frame large enough that CPython
gives it a 128 KB chunk of its own, with about 70 KB left over, more than
the deepest page needs. Called once at the bottom of a gunicorn worker's
loop (blog/gunicorn.py), that chunk stays for the worker's life, and no
request maps a chunk of its own.
"""

from collections.abc import Callable

# The frame's size in words: its local variables. CPython gives a new chunk
# the first power of two from 16 KB that holds the frame and 1,000 words
# more; 7,200 locals ask for 8 x 8,212 bytes, so 128 KB, and leave the
# most of it free.
_LOCALS = 7200

_source = (
    "def with_room(run):\n"
    "    if run is None:\n"
    f"        {' = '.join(f'_{n}' for n in range(_LOCALS))} = None\n"
    "    return run()\n"
)
_namespace: dict = {}
exec(compile(_source, "<blog.framestack>", "exec"), _namespace)

with_room: Callable = _namespace["with_room"]
with_room.__doc__ = "Return run(), called with room on the frame stack below it."
