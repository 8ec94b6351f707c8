"""parlab's tracer: records every task of a Python program, without changing it.

parlab writes this module (and a three-line sitecustomize.py that imports it)
to a private temporary folder, puts that folder on PYTHONPATH and starts

    python3 -c "import parlab_trace; parlab_trace.main()" SCRIPT ARGS...

Because the folder is on PYTHONPATH, every Python process of the run loads
the hooks at start-up: the main one, forked children (they inherit the
patched classes) and spawned / forkserver children (their interpreter runs
sitecustomize). Standard library only; Python >= 3.8.

What is recorded (one JSON object per line, each written with a single
os.write smaller than PIPE_BUF to the file named by PARLAB_TRACE_OUT, opened
with O_APPEND so lines from many processes never interleave):

- every call of the task function of Pool.map / imap / imap_unordered /
  starmap / apply_async (process and thread pools), of
  concurrent.futures executors' submit / map, and every Process / Thread
  target (or overridden run method), with pid, native thread id, process and
  thread names, task index, a short repr of the argument, start and end on
  CLOCK_MONOTONIC (time.monotonic_ns, the clock of Rust's Instant on Linux)
  and the thread's CPU time during the task (time.thread_time_ns);
- functions named in PARLAB_TRACE_TASKS (comma separated), and functions
  decorated with @parlab_trace.task;
- the life of each worker process: start requested (fork / spawn /
  forkserver), ready to run, exit; pool and executor creation.

Times are absolute monotonic nanoseconds; parlab subtracts its own origin.
"""

import functools
import itertools
import json
import os
import sys
import threading
import time

_OUT_ENV = "PARLAB_TRACE_OUT"
_TASKS_ENV = "PARLAB_TRACE_TASKS"
_START_ENV = "PARLAB_START_METHOD"
_PIPE_BUF = 4096
_REPR_CHARS = 60
_NOT_USER = (
    "multiprocessing",
    "concurrent",
    "threading",
    "queue",
    "asyncio",
    "logging",
    "parlab_trace",
    "sitecustomize",
    "_",
)

_installed = False
_fd = None
_fd_pid = None
_fd_lock = threading.Lock()
_named_tasks = frozenset()
_local = threading.local()
_counters = {}
_counter_lock = threading.Lock()


def _now():
    return time.monotonic_ns()


def _short_repr(value):
    try:
        text = repr(value)
    except Exception:  # a repr that raises must not break the student's task
        text = "<unprintable>"
    if len(text) > _REPR_CHARS:
        text = text[: _REPR_CHARS - 3] + "..."
    return text


def _names():
    try:
        import multiprocessing

        process_name = multiprocessing.current_process().name
    except Exception:
        process_name = "?"
    return process_name, threading.current_thread().name


def _native_id():
    getter = getattr(threading, "get_native_id", None)
    return getter() if getter else threading.get_ident()


def _emit(record):
    """Writes one record as one line with one os.write (below PIPE_BUF)."""
    global _fd, _fd_pid
    path = os.environ.get(_OUT_ENV)
    if not path:
        return
    line = json.dumps(record, separators=(",", ":"), ensure_ascii=True)
    if len(line) >= _PIPE_BUF - 1:
        for key in ("arg", "fn", "tn", "pn"):
            if key in record:
                record[key] = str(record[key])[:20]
        line = json.dumps(record, separators=(",", ":"), ensure_ascii=True)[: _PIPE_BUF - 2]
    data = (line + "\n").encode("ascii")
    with _fd_lock:
        pid = os.getpid()
        if _fd is None or _fd_pid != pid:
            try:
                _fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                _fd_pid = pid
            except OSError:
                return
        try:
            os.write(_fd, data)
        except OSError:
            pass


def _base(kind):
    process_name, thread_name = _names()
    return {
        "k": kind,
        "pid": os.getpid(),
        "tid": _native_id(),
        "pn": process_name,
        "tn": thread_name,
    }


def _next_index(key):
    with _counter_lock:
        value = _counters.get(key, 0)
        _counters[key] = value + 1
    return value


def _call_traced(func, args, kwargs, index, arg_repr, source):
    """Runs func(*args, **kwargs) and records it as one task."""
    name = getattr(func, "__name__", None) or type(func).__name__
    if name in _named_tasks:
        # The profile hook (--task) records this call already.
        return func(*args, **kwargs)
    depth = getattr(_local, "depth", 0)
    _local.depth = depth + 1
    cpu0 = time.thread_time_ns()
    t0 = _now()
    ok = True
    try:
        return func(*args, **kwargs)
    except BaseException:
        ok = False
        raise
    finally:
        t1 = _now()
        cpu1 = time.thread_time_ns()
        _local.depth = depth
        if depth == 0:
            record = _base("task")
            record.update(
                {
                    "fn": name,
                    "i": index,
                    "arg": arg_repr,
                    "t0": t0,
                    "t1": t1,
                    "cpu": cpu1 - cpu0,
                    "src": source,
                    "ok": ok,
                }
            )
            _emit(record)


class _Indexed:
    """A picklable task wrapper: called with (index, item), runs func(item)."""

    def __init__(self, func, source, star=False):
        self.func = func
        self.source = source
        self.star = star

    def __call__(self, index, *items):
        if self.star:
            (args,) = items
            args = tuple(args)
        else:
            args = items
        shown = args[0] if len(args) == 1 else args
        return _call_traced(self.func, args, {}, index, _short_repr(shown), self.source)


class _Pair:
    """A picklable wrapper for Pool.map: called with one (index, item) pair."""

    def __init__(self, func, source):
        self.inner = _Indexed(func, source)

    def __call__(self, pair):
        index, item = pair
        return self.inner(index, item)


class _Once:
    """A picklable wrapper for one submitted call (apply_async, submit)."""

    def __init__(self, func, index, source):
        self.func = func
        self.index = index
        self.source = source

    def __call__(self, *args, **kwargs):
        shown = args[0] if len(args) == 1 and not kwargs else args
        return _call_traced(self.func, args, kwargs, self.index, _short_repr(shown), self.source)


def _is_wrapped(func):
    return isinstance(func, (_Indexed, _Pair, _Once))


def _pool_kind(pool):
    try:
        from multiprocessing.pool import ThreadPool

        if isinstance(pool, ThreadPool):
            return "thread"
    except Exception:
        pass
    return "process"


def _patch_pool():
    import multiprocessing.pool as mpool

    Pool = mpool.Pool
    original_init = Pool.__init__

    def __init__(self, *args, **kwargs):
        t0 = _now()
        original_init(self, *args, **kwargs)
        record = _base("pool")
        record.update(
            {"kind": _pool_kind(self), "workers": getattr(self, "_processes", 0), "t0": t0, "t1": _now()}
        )
        _emit(record)

    Pool.__init__ = __init__

    def source_of(pool, method):
        return ("ThreadPool." if _pool_kind(pool) == "thread" else "Pool.") + method

    def wrap_map(method):
        original = getattr(Pool, method)

        def patched(self, func, iterable, *args, **kwargs):
            if _is_wrapped(func):
                return original(self, func, iterable, *args, **kwargs)
            pairs = enumerate(iterable)
            if method in ("map", "map_async"):
                pairs = list(pairs)  # map needs a length for its chunk size
            return original(self, _Pair(func, source_of(self, method)), pairs, *args, **kwargs)

        patched.__name__ = method
        setattr(Pool, method, patched)

    for method in ("map", "map_async", "imap", "imap_unordered"):
        wrap_map(method)

    def wrap_starmap(method):
        original = getattr(Pool, method)

        def patched(self, func, iterable, *args, **kwargs):
            if _is_wrapped(func):
                return original(self, func, iterable, *args, **kwargs)
            items = [(i, tuple(a)) for i, a in enumerate(iterable)]
            return original(self, _Indexed(func, source_of(self, method), star=True), items, *args, **kwargs)

        patched.__name__ = method
        setattr(Pool, method, patched)

    for method in ("starmap", "starmap_async"):
        wrap_starmap(method)

    original_apply_async = Pool.apply_async

    def apply_async(self, func, args=(), kwds={}, *rest, **kwargs):
        if not _is_wrapped(func):
            func = _Once(func, _next_index(("pool", id(self))), source_of(self, "apply_async"))
        return original_apply_async(self, func, args, kwds, *rest, **kwargs)

    Pool.apply_async = apply_async


def _patch_futures():
    try:
        import concurrent.futures as cf
        import concurrent.futures.process as cfp
    except Exception:
        return
    for cls, label in ((cf.ThreadPoolExecutor, "ThreadPoolExecutor"), (cf.ProcessPoolExecutor, "ProcessPoolExecutor")):
        _patch_executor(cls, label, cfp)


def _patch_executor(cls, label, cfp):
    original_init = cls.__init__
    original_submit = cls.submit
    original_map = cls.map

    def __init__(self, *args, **kwargs):
        t0 = _now()
        original_init(self, *args, **kwargs)
        record = _base("pool")
        record.update(
            {
                "kind": "thread" if "Thread" in label else "process",
                "workers": getattr(self, "_max_workers", 0),
                "t0": t0,
                "t1": _now(),
            }
        )
        _emit(record)

    def submit(self, fn, *args, **kwargs):
        inner = getattr(fn, "func", None)
        internal = inner is getattr(cfp, "_process_chunk", object())
        if not internal and not _is_wrapped(fn):
            fn = _Once(fn, _next_index(("executor", id(self))), label + ".submit")
        return original_submit(self, fn, *args, **kwargs)

    def map(self, fn, *iterables, **kwargs):
        if _is_wrapped(fn):
            return original_map(self, fn, *iterables, **kwargs)
        return original_map(self, _Indexed(fn, label + ".map"), itertools.count(), *iterables, **kwargs)

    cls.__init__ = __init__
    cls.submit = submit
    cls.map = map


def _is_user_callable(func):
    module = getattr(func, "__module__", None) or ""
    if isinstance(func, functools.partial):
        return _is_user_callable(func.func)
    return not module.startswith(_NOT_USER) or module in ("__main__", "__mp_main__")


def _user_run(obj, base_run, target):
    """The user's code this Thread / Process runs, or None for library workers."""
    run = type(obj).run
    if run is not base_run:
        if _is_user_callable(run):
            return "run", type(obj).__name__ + ".run"
        return None
    if target is not None and _is_user_callable(target):
        return "target", getattr(target, "__name__", "target")
    return None


def _patch_threads():
    Thread = threading.Thread
    original_run = Thread.run
    original_bootstrap_inner = Thread._bootstrap_inner

    def _bootstrap_inner(self):
        kind = _user_run(self, original_run, getattr(self, "_target", None))
        if kind is not None and "run" not in self.__dict__:
            bound = self.run
            args = getattr(self, "_args", ())
            shown = _short_repr(args[0] if len(args) == 1 else args)
            index = _next_index("thread")
            name = kind[1]

            def traced_run():
                return _call_traced(_Named(bound, name), (), {}, index, shown, "Thread")

            self.run = traced_run
        return original_bootstrap_inner(self)

    Thread._bootstrap_inner = _bootstrap_inner


class _Named:
    """Calls func, reporting `name` as its name."""

    def __init__(self, func, name):
        self.func = func
        self.__name__ = name

    def __call__(self, *args, **kwargs):
        return self.func(*args, **kwargs)


def _patch_processes():
    import multiprocessing.process as mprocess

    BaseProcess = mprocess.BaseProcess
    original_start = BaseProcess.start
    original_bootstrap = BaseProcess._bootstrap
    original_run = BaseProcess.run

    def start(self):
        t0 = _now()
        original_start(self)
        t1 = _now()
        record = _base("spawn")
        record.update(
            {
                "child": self.pid,
                "cn": self.name,
                "method": getattr(self, "_start_method", None) or _default_method(),
                "t0": t0,
                "t1": t1,
            }
        )
        _emit(record)

    def _bootstrap(self, *args, **kwargs):
        ready = _base("ready")
        ready.update({"ppid": os.getppid(), "t": _now()})
        _emit(ready)
        kind = _user_run(self, original_run, getattr(self, "_target", None))
        if kind is not None and "run" not in self.__dict__:
            bound = self.run
            targs = getattr(self, "_args", ())
            shown = _short_repr(targs[0] if len(targs) == 1 else targs)
            named = _Named(bound, kind[1])

            def traced_run():
                return _call_traced(named, (), {}, 0, shown, "Process")

            self.run = traced_run
        code = None
        try:
            code = original_bootstrap(self, *args, **kwargs)
            return code
        finally:
            done = _base("exit")
            done.update({"t": _now(), "code": code})
            _emit(done)

    BaseProcess.start = start
    BaseProcess._bootstrap = _bootstrap


def _profile(frame, event, arg):
    """Records calls of functions named in PARLAB_TRACE_TASKS."""
    code = frame.f_code
    if code.co_name not in _named_tasks:
        return
    stack = getattr(_local, "named", None)
    if stack is None:
        stack = _local.named = {}
    if event == "call":
        first = None
        if code.co_argcount > 0:
            first = frame.f_locals.get(code.co_varnames[0])
        stack[id(frame)] = (_now(), time.thread_time_ns(), _short_repr(first), _next_index(("named", code.co_name)))
    elif event == "return":
        entry = stack.pop(id(frame), None)
        if entry is None:
            return
        t0, cpu0, shown, index = entry
        record = _base("task")
        record.update(
            {
                "fn": code.co_name,
                "i": index,
                "arg": shown,
                "t0": t0,
                "t1": _now(),
                "cpu": time.thread_time_ns() - cpu0,
                "src": "--task",
                "ok": True,
            }
        )
        _emit(record)


def task(func):
    """Decorator: record every call of `func` as a task (works without parlab too)."""

    @functools.wraps(func)
    def traced(*args, **kwargs):
        shown = args[0] if len(args) == 1 and not kwargs else args
        return _call_traced(func, args, kwargs, _next_index(("decorated", func.__name__)), _short_repr(shown), "@task")

    return traced


def _after_fork_in_child():
    global _fd_lock, _counter_lock
    _fd_lock = threading.Lock()
    _counter_lock = threading.Lock()


def _chain_sitecustomize(ours):
    """Runs the sitecustomize that parlab's own one shadows, if there is one."""
    import importlib.machinery
    import importlib.util

    here = os.path.dirname(os.path.abspath(ours))
    paths = [p for p in sys.path if os.path.abspath(p or ".") != here]
    try:
        spec = importlib.machinery.PathFinder.find_spec("sitecustomize", paths)
        if spec is None or spec.loader is None:
            return
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except Exception as error:
        sys.stderr.write("parlab_trace: the system's sitecustomize failed: {}\n".format(error))


def install():
    """Installs every hook once per process (called by sitecustomize)."""
    global _installed, _named_tasks
    if _installed or not os.environ.get(_OUT_ENV):
        return
    _installed = True
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_in_child)
    names = os.environ.get(_TASKS_ENV, "")
    _named_tasks = frozenset(n.strip() for n in names.split(",") if n.strip())
    for patch in (_patch_pool, _patch_futures, _patch_threads, _patch_processes):
        try:
            patch()
        except Exception as error:  # a Python without one of these still runs
            sys.stderr.write("parlab_trace: could not hook {}: {}\n".format(patch.__name__, error))
    if _named_tasks:
        sys.setprofile(_profile)
        threading.setprofile(_profile)


def _gil_enabled():
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else bool(check())


def main():
    """Runs sys.argv[1:] (SCRIPT ARGS...) as __main__ with the hooks on."""
    import runpy
    import traceback

    install()
    if len(sys.argv) < 2:
        sys.stderr.write("parlab_trace: no script given\n")
        sys.exit(2)
    script = os.path.abspath(sys.argv[1])
    sys.argv = [script] + sys.argv[2:]
    sys.path[0] = os.path.dirname(script)
    method = os.environ.get(_START_ENV)
    if method:
        import multiprocessing

        multiprocessing.set_start_method(method, force=True)
    record = _base("main")
    record.update(
        {
            "t": _now(),
            "python": sys.version.split()[0],
            "exe": sys.executable,
            "gil": _gil_enabled(),
            "cpus": os.cpu_count() or 0,
            "method": method or _default_method(),
        }
    )
    _emit(record)
    code = 0
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as stop:
        if stop.code is None:
            code = 0
        elif isinstance(stop.code, int):
            code = stop.code
        else:
            sys.stderr.write(str(stop.code) + "\n")
            code = 1
    except BaseException as error:
        tb = error.__traceback__
        while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) != script:
            tb = tb.tb_next
        # Only the script's frames; none for a syntax error in the script itself.
        traceback.print_exception(type(error), error, tb)
        code = 1
    finally:
        end = _base("end")
        end.update({"t": _now()})
        _emit(end)
    sys.stdout.flush()
    sys.exit(code)


def _default_method():
    try:
        import multiprocessing

        return multiprocessing.get_start_method(allow_none=False)
    except Exception:
        return "?"
