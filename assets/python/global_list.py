"""A child process changes a global list; the parent never sees it.

cal_square appends squares to the global list result. With --mode threads
the thread shares the parent's memory and the parent prints the squares.
With --mode processes (the default) the child gets its own copy of the
program's memory: it prints the squares inside itself, but the parent's
list is still empty afterwards. Processes need a Queue, a Value or an Array
to hand results back.
"""

import argparse
import threading
from multiprocessing import Process

result = []


def cal_square(numbers):
    for n in numbers:
        result.append(n * n)
    print("inside the worker: result", result, flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["processes", "threads"], default="processes")
    options = parser.parse_args()
    make_worker = Process if options.mode == "processes" else threading.Thread
    worker = make_worker(target=cal_square, args=([2, 3, 5, 7],))
    worker.start()
    worker.join()
    print("in the parent: result", result)
