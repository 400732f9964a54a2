"""How much Redis grows while readers comment and read: a soak.

    python bench/redis_soak.py [--minutes N]

Starts a redis-server of its own on a spare port (no maxmemory, so growth
shows), builds bench/run.py's data, and runs gunicorn (2 workers, page cache
on) with comments published at once (no email confirmation, no hold, no rate
limit: bench/soak_settings.py). For N minutes (default 5) wrk posts comments
on four posts while readers fetch those posts, the home page, a category and
a tag. Redis's used_memory is sampled every 15 s.

Reports memory at the start and the end, the comments published, and the
growth per 1,000 comments: the figure that compares two versions of the code
even when the machine's speed differs between the runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def spare_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


REDIS_PORT = spare_port()
REDIS_DIR = Path(tempfile.mkdtemp(prefix="inkwell-soak-redis-"))
redis = subprocess.Popen(
    ["redis-server", "--port", str(REDIS_PORT), "--save", "", "--appendonly", "no"],
    cwd=REDIS_DIR,
    stdout=subprocess.DEVNULL,
)
os.environ["REDIS_URL"] = f"redis://127.0.0.1:{REDIS_PORT}/0"

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import run  # noqa: E402  (sets the environment up, then Django)


def used_memory_mb() -> float:
    info = subprocess.run(
        ["redis-cli", "-p", str(REDIS_PORT), "info", "memory"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    used = next(line for line in info.splitlines() if line.startswith("used_memory:"))
    return round(int(used.split(":")[1]) / 2**20, 1)


def memory_by_kind() -> list[tuple[str, int, float]]:
    """Redis's keys by kind (the key without its hashes and numbers): how
    many, and their memory in MB, largest first."""
    import re

    import redis as redis_client

    connection = redis_client.Redis(port=REDIS_PORT)
    kinds: dict[str, list[int]] = {}
    for key in connection.scan_iter(count=1000):
        kind = re.sub(rb"[0-9a-f]{32,}|\d+", b"#", key).decode(errors="replace")
        entry = kinds.setdefault(kind, [0, 0])
        entry[0] += 1
        entry[1] += connection.memory_usage(key) or 0
    rows = [(kind, n, round(size / 2**20, 1)) for kind, (n, size) in kinds.items()]
    return sorted(rows, key=lambda row: -row[2])


def reader_script(paths: list[str]) -> Path:
    script = run.WORKDIR / "readers.lua"
    listed = ", ".join(f'"{path}"' for path in paths)
    script.write_text(
        f"""
paths = {{{listed}}}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end
"""
    )
    return script


def wrk_in_background(url_path: str, seconds: int, script: Path, connections: int):
    return subprocess.Popen(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            f"http://127.0.0.1:{run.PORT}{url_path}",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5)
    args = parser.parse_args()
    seconds = int(args.minutes * 60)

    from comments.models import Comment, DiscussionSettings

    run.call_command("migrate", verbosity=0)
    run.call_command("collectstatic", interactive=False, verbosity=0)
    urls = run.build_data()
    rules = DiscussionSettings.current()
    rules.hold_policy = DiscussionSettings.HoldPolicy.NEVER
    rules.hold_links = 0
    rules.save()
    posts = [urls[f"post, {count} comments"] for count in (0, 50, 500, 1000)]
    pages = [*posts, "/", urls["category"], urls["tag"]]

    samples = []
    with run.Gunicorn(page_cache=True, settings_module="bench.soak_settings") as server:
        for path in pages:
            run.urllib.request.urlopen(f"http://127.0.0.1:{run.PORT}{path}").read()
        start_mb = used_memory_mb()
        public_before = Comment.objects.filter(state="public").count()
        posters = [
            wrk_in_background(
                "/comments/post/", seconds, run.comment_post_script(post)[0], 1
            )
            for post in posts
        ]
        readers = wrk_in_background("/", seconds, reader_script(pages), 4)
        started = time.monotonic()
        while any(p.poll() is None for p in [*posters, readers]):
            samples.append((round(time.monotonic() - started), used_memory_mb()))
            time.sleep(15)
        end_mb = used_memory_mb()
        kinds = memory_by_kind()
        reads = run.re.search(r"(\d+) requests in", readers.stdout.read())[1]
        peak_rss = server.peak_rss_mb()
    run.connection.close()
    published = Comment.objects.filter(state="public").count() - public_before

    print(f"\nRedis soak, {args.minutes:g} min, gunicorn 2 workers, page cache on")
    print("seconds  used_memory MB")
    for second, megabytes in samples:
        print(f"{second:7}  {megabytes:8.1f}")
    print("keys by kind at the end (count, MB):")
    for kind, count, megabytes in kinds[:8]:
        print(f"  {kind[:70]:70} {count:6} {megabytes:7.1f}")
    growth = end_mb - start_mb
    print(
        f"start {start_mb} MB, end {end_mb} MB: +{growth:.1f} MB for "
        f"{published} comments published and {reads} pages read "
        f"({growth / max(published, 1) * 1000:.1f} MB per 1,000 comments); "
        f"worker peak RSS {peak_rss} MB"
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        redis.terminate()
        redis.wait(timeout=10)
        shutil.rmtree(REDIS_DIR, ignore_errors=True)
        shutil.rmtree(run.WORKDIR, ignore_errors=True)
