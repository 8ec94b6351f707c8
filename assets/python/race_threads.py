"""Two threads update one value: read, wait, write. One update is lost.

Each thread reads the shared database_value into a local copy, adds one,
waits a tenth of a second (as if writing to a slow database) and writes the
copy back. Both threads read 0 before either writes, so both write 1: the
program ends at 1, not 2. The timeline shows the two tasks overlapping
completely; that overlap is the race. Compare with race_locked.py.
"""

import time
from threading import Thread

database_value = 0


def increase():
    global database_value
    local_copy = database_value
    local_copy += 1
    time.sleep(0.1)
    database_value = local_copy


if __name__ == "__main__":
    print("Start value:", database_value)
    first = Thread(target=increase)
    second = Thread(target=increase)
    first.start()
    second.start()
    first.join()
    second.join()
    print("End value:", database_value)
