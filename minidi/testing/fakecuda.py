"""The `cupy.cuda` pieces the strict CuPy stand-in (`fakecupy.py`) models: a device, a stream, events and a
memory pool, enough for `minidi.backend` and the benchmarks; and STATS, the transfer and sync counters."""
import time

STATS = {"device_to_host": 0, "host_to_device": 0, "synchronize": 0}


class Stream:
    def synchronize(self):
        STATS["synchronize"] += 1


class Device:
    def __init__(self, device=None):
        self.id = 0 if device is None else int(device)
        if self.id != 0:
            raise RuntimeError("the stand-in has one device, 0")

    compute_capability = "90"

    def synchronize(self):
        STATS["synchronize"] += 1

    def use(self):
        return self


class Event:
    def __init__(self, *args, **kwargs):
        self.t = None

    def record(self, stream=None):
        self.t = time.perf_counter()

    def synchronize(self):
        STATS["synchronize"] += 1


class MemoryPool:
    def used_bytes(self):
        return 0

    def total_bytes(self):
        return 0

    def free_bytes(self):
        return 0

    def free_all_blocks(self, stream=None):
        pass
