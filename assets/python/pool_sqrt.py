"""Pool.map of a square root over range(20), saying which worker ran which task.

A Pool of worker processes shares out the 20 square roots. Each task prints
the name of the process that ran it: with one worker every line names the
same ForkPoolWorker (the same as a plain loop); with two or more the names
alternate and the lines arrive out of order, while the list of results is
still in order. The timeline shows how short each task is next to the time
it takes to start a worker: for work this small, the pool costs more than it
saves.
"""

import argparse
import math
import multiprocessing
import time


def root_of(x):
    r = math.sqrt(x)
    print("Task", multiprocessing.current_process().name, x, r, flush=True)
    return r


def timed_pool(func, data, num_workers):
    t0 = time.perf_counter()
    with multiprocessing.Pool(processes=num_workers) as pool:
        results = pool.map(func, data)
    print("Results", results)
    print("Overall time: {:.3f} s".format(time.perf_counter() - t0))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--items", type=int, default=20)
    options = parser.parse_args()
    timed_pool(root_of, range(options.items), options.workers)
