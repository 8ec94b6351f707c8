"""multiprocessing.Value shared by two processes, with a Lock: exact total.

The same two processes and the same increments as value_race.py, but each
read-and-write happens while holding a multiprocessing.Lock, so no update is
lost and the total is exact every time. A threading.Lock would not work
here: the processes do not share memory, so the lock must be one that
multiprocessing shares between them.
"""

import argparse
from multiprocessing import Lock, Process, Value


def add_many(number, lock, count):
    for _ in range(count):
        with lock:
            number.value += 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20000)
    options = parser.parse_args()
    lock = Lock()
    shared = Value("i", 0)
    print("Number at beginning is", shared.value)
    workers = [Process(target=add_many, args=(shared, lock, options.count)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print("Number at end is {} (expected {})".format(shared.value, 2 * options.count))
