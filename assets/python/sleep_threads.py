"""Waiting tasks (like downloads): here threads do help.

Each task sleeps for a fifth of a second, as a program does while it waits
for a disk or a web server. A sleeping thread releases the GIL, so N threads
wait at the same time and the run takes about items / N fifths of a second,
even though Python runs one thread at a time. The timeline shows the tasks
overlapping; CPU/wall per task is close to zero, because waiting uses no
CPU. Try --mode processes as well: it helps just as much, but each worker
costs a process start.
"""

import argparse
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor


def fetch(page):
    time.sleep(0.2)
    return "page {} ({} bytes)".format(page, 1000 + page)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--mode", choices=["threads", "processes"], default="threads")
    parser.add_argument("--items", type=int, default=12)
    options = parser.parse_args()

    executor = ThreadPoolExecutor if options.mode == "threads" else ProcessPoolExecutor
    t0 = time.perf_counter()
    with executor(max_workers=options.workers) as pool:
        pages = list(pool.map(fetch, range(options.items)))
    print("fetched {} pages with {} {} in {:.2f} s".format(
        len(pages), options.workers, options.mode, time.perf_counter() - t0))
