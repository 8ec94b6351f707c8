"""Worker processes send their results back through a Queue.

A child process cannot hand its results back by changing a variable (see
global_list.py). Here each worker squares its share of the numbers and puts
each square on a multiprocessing.Queue; the parent takes them off after the
workers finish. The results arrive in the order the workers produced them,
not in the order of the input: the parent sorts them.
"""

import argparse
from multiprocessing import Process, Queue


def square_share(numbers, results):
    for n in numbers:
        results.put((n, n * n))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()
    numbers = [2, 3, 5, 7, 11, 13, 17, 19]
    results = Queue()
    shares = [numbers[i::options.workers] for i in range(options.workers)]
    workers = [Process(target=square_share, args=(share, results)) for share in shares]
    for worker in workers:
        worker.start()
    collected = [results.get() for _ in numbers]
    for worker in workers:
        worker.join()
    print("arrived:", [square for _, square in collected])
    print("squares:", [square for _, square in sorted(collected)])
