"""Pool.map of a naive prime test: processes speed it up, threads do not.

Every task checks one large prime the slow way, dividing by every number up
to its square root, so every task is the same amount of pure-Python
arithmetic. With --mode processes (multiprocessing.Pool) each worker is a
process with its own interpreter and its own GIL: on a machine with several
cores the tasks overlap and the run gets faster with more workers. With
--mode threads (multiprocessing.pool.ThreadPool, same API) the tasks still
spread over several threads, but only the thread holding the GIL computes:
look at CPU/wall per task, which drops to about 1/N with N threads, and at
the total time, which does not improve. The course checks 8-digit numbers;
12 digits here make each task last tens of milliseconds.
"""

import argparse
import math
import time
from multiprocessing import Pool
from multiprocessing.pool import ThreadPool


def is_prime(n):
    if n < 2:
        return False
    for d in range(2, math.isqrt(n) + 1):
        if n % d == 0:
            return False
    return True


def probably_prime(n):
    # Miller-Rabin with fixed bases: exact below 3.3e24, and fast.
    if n < 2:
        return False
    small = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)
    for p in small:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for a in small:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def primes_above(start, count):
    found, n = [], start | 1
    while len(found) < count:
        if probably_prime(n):
            found.append(n)
        n += 2
    return found


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--mode", choices=["processes", "threads"], default="processes")
    parser.add_argument("--items", type=int, default=24)
    parser.add_argument("--digits", type=int, default=12)
    options = parser.parse_args()

    numbers = primes_above(10 ** (options.digits - 1), options.items)
    make_pool = Pool if options.mode == "processes" else ThreadPool
    t0 = time.perf_counter()
    with make_pool(options.workers) as pool:
        flags = pool.map(is_prime, numbers)
    wall = time.perf_counter() - t0
    print("{} of {} numbers are prime ({} {}-digit numbers, {} {})".format(
        sum(flags), len(numbers), len(numbers), options.digits, options.workers, options.mode))
    print("Pool took {:.3f} s".format(wall))
