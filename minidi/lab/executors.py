"""Where a grid's cells run, all behind the `concurrent.futures.Executor` interface: this process (default), a
local process pool of K workers with one BLAS thread each (`workers=K`), or a Dask distributed scheduler
(`scheduler="tcp://host:port"`, the optional extra `minidi[dist]`). `minidi.lab.grid.run` drives any of them."""
import concurrent.futures as cf
import multiprocessing
import os

from ..errors import MinidiError, environ_number

BLAS_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


class InProcessExecutor(cf.Executor):
    """Runs each submitted call at once, in this process (the default runner)."""

    def submit(self, fn, *args, **kwargs):
        future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:                    # Ctrl-C and bugs propagate to the caller
            if not isinstance(exc, Exception):
                raise
            future.set_exception(exc)
        return future


def die_with_parent(parent):
    """A pool worker's initializer: end this worker as soon as the process that started it is gone (killed with
    SIGKILL, say), so that no orphan goes on computing and writing cells. On Linux the kernel sends SIGKILL at
    the parent's death (prctl PR_SET_PDEATHSIG); everywhere a daemon thread checks the parent once a second."""
    import ctypes
    import signal
    import sys
    import threading
    import time
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)        # PR_SET_PDEATHSIG = 1
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:                                     # the parent died before prctl took effect
        os._exit(1)

    def watch():
        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(1.0)
    threading.Thread(target=watch, daemon=True).start()


class Runner:
    """An executor and how to replace it after a worker died: in-process, a process pool, or Dask."""

    def __init__(self, workers=None, scheduler=None, worker_threads=1):
        self.workers, self.scheduler, self.worker_threads = workers, scheduler, worker_threads
        self.client, self._saved_env, self.closed = None, {}, False
        if scheduler:                                       # capacity: cells in flight at once
            self.name, self.capacity = f"the Dask scheduler {scheduler}", 10 ** 6   # Dask queues them itself
        elif workers:
            self.name = f"{workers} local worker process(es), {worker_threads} BLAS thread(s) each"
            self.capacity = workers
        else:
            self.name, self.capacity = "this process", 1
        self.executor = self._start()

    def _start(self):
        if self.scheduler:
            return self._dask()
        if self.workers:
            for var in BLAS_ENV:                            # read by each worker's NumPy when it starts
                self._saved_env.setdefault(var, os.environ.get(var))
                os.environ[var] = str(self.worker_threads)
            return cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                                          initializer=die_with_parent, initargs=(os.getpid(),))
        return InProcessExecutor()

    def _dask(self):
        try:
            from distributed import Client
        except ImportError:
            raise MinidiError('a Dask scheduler needs the "dist" extra: pip install "minidi[dist]"') from None
        try:
            timeout = environ_number("MINIDI_SCHEDULER_TIMEOUT", 10.0, low=0, low_open=True)
            self.client = Client(self.scheduler, timeout=timeout)
        except (OSError, TimeoutError, ValueError) as exc:
            raise MinidiError(f"cannot reach the Dask scheduler {self.scheduler}: {exc}") from None
        return self.client.get_executor(pure=False)

    def restart(self):
        """A fresh pool after BrokenProcessPool (a worker died; only a process pool breaks that way)."""
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = self._start()

    def close(self, abort=False):
        """Shut the executor down (once); abort=True (an interruption or an error) stops the workers at once."""
        if self.closed:
            return
        self.closed = True
        if abort and isinstance(self.executor, cf.ProcessPoolExecutor):
            for process in list(getattr(self.executor, "_processes", {}).values()):   # no public way to stop them
                process.terminate()
        if self.client is not None:                        # Dask's executor: shutdown(wait) only
            self.executor.shutdown(wait=not abort)
        else:
            self.executor.shutdown(wait=not abort, cancel_futures=abort)
        if self.client is not None:
            self.client.close()
        for var, value in self._saved_env.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value


def resolve_scheduler(scheduler=None):
    """--scheduler, else $MINIDI_SCHEDULER, else None (no cluster)."""
    return scheduler or os.environ.get("MINIDI_SCHEDULER") or None
