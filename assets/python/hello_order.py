"""Start and join: who says Hello first is up to the operating system.

Each process prints "Hello" and then "World from" its process id. All are
started before any is joined, so their lines can interleave (Hello, Hello,
World, World) and the order of the process ids can change from run to run.
The timeline shows each process's start-up bar: starting a process is not
free, and with the spawn start method it takes far longer than with fork.
"""

import argparse
import os
from multiprocessing import Process


def say_hello():
    print("Hello", flush=True)
    print("World from {}".format(os.getpid()), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()
    workers = [Process(target=say_hello) for _ in range(options.workers)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print("main process {} joined {} children".format(os.getpid(), len(workers)))
