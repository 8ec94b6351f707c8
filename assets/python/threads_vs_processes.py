"""The same CPU-bound loop in N threads or N processes (square_numbers).

Each worker runs square_numbers(): a loop that squares every number below a
limit and throws the result away. Threads and processes do exactly the same
work. With --mode processes the N loops run side by side on N cores. With
--mode threads they share one interpreter lock (the GIL): the timeline shows
all N threads busy for the whole run, but CPU/wall per task is about 1/N,
because each thread computes only while it holds the GIL and waits the rest
of the time. Busy is not the same as running.
"""

import argparse
import time
from multiprocessing import Process
from threading import Thread


def square_numbers(limit):
    for i in range(limit):
        result = i * i
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--mode", choices=["processes", "threads"], default="threads")
    parser.add_argument("--limit", type=int, default=2_000_000)
    options = parser.parse_args()

    make_worker = Process if options.mode == "processes" else Thread
    workers = [make_worker(target=square_numbers, args=(options.limit,)) for _ in range(options.workers)]
    t0 = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print("{} {} each squared {} numbers in {:.3f} s".format(
        options.workers, options.mode, options.limit, time.perf_counter() - t0))
