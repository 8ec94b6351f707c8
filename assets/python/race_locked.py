"""The same read, wait, write update, with a Lock: the program ends at 2.

Each thread takes the lock before it reads database_value and gives it back
after it writes, so the second thread reads only after the first has
written. The program ends at 2. The price is on the timeline: the two tasks
no longer overlap, the second waits for the first, and the run takes twice
as long as race_threads.py.
"""

import time
from threading import Lock, Thread

database_value = 0


def increase(lock):
    global database_value
    with lock:
        local_copy = database_value
        local_copy += 1
        time.sleep(0.1)
        database_value = local_copy


if __name__ == "__main__":
    lock = Lock()
    print("Start value:", database_value)
    workers = [Thread(target=increase, args=(lock,)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print("End value:", database_value)
