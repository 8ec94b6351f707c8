"""multiprocessing.Value shared by two processes, without a Lock.

Two processes each add 1 to a shared Value many times. `number.value += 1`
is a read followed by a write; another process can write in between, and
that update is lost. The total usually ends below the expected one, and by a
different amount each run. Compare with value_locked.py.
"""

import argparse
from multiprocessing import Process, Value


def add_many(number, count):
    for _ in range(count):
        number.value += 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20000)
    options = parser.parse_args()
    shared = Value("i", 0)
    print("Number at beginning is", shared.value)
    workers = [Process(target=add_many, args=(shared, options.count)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print("Number at end is {} (expected {})".format(shared.value, 2 * options.count))
