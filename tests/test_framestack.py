"""A gunicorn worker renders pages without mapping memory at every call.

CPython 3.11 unmaps a chunk of its frame stack as soon as the frame at its
start returns (blog/framestack.py). Calls that go down past a chunk's border
and come back, again and again, as a template's nodes do, then map fresh
memory each time: page faults, counted here by the kernel.
"""

import resource
import types

from blog import gunicorn
from blog.framestack import with_room


def dive(depth: int) -> int:
    return dive(depth - 1) if depth else 0


def to_every_depth_and_back() -> None:
    for depth in range(1, 400):
        for _ in range(10):
            dive(depth)


def page_faults(run) -> int:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    run()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def test_without_room_calls_that_cross_a_chunk_border_map_memory_each_time():
    # The defect the module works around; once CPython keeps a spare chunk
    # (as 3.13 does), this fails and blog/framestack.py can go.
    assert page_faults(to_every_depth_and_back) > 1000


def test_with_room_they_map_none():
    assert page_faults(lambda: with_room(to_every_depth_and_back)) < 50


def test_a_gunicorn_worker_runs_its_loop_with_room():
    worker = types.SimpleNamespace(run=to_every_depth_and_back)
    gunicorn.post_worker_init(worker)
    assert page_faults(worker.run) < 50


def test_with_room_returns_what_run_returns():
    assert with_room(lambda: "page") == "page"
