"""The strict CuPy stand-in fails wherever real CuPy fails and NumPy code would silently work.

These tests use the stand-in directly (whatever the machine has), so they always run."""
import copy
import json
import os
import pickle

import numpy as np
import pytest
import scipy.linalg
import scipy.stats

from minidi.testing import fakecupy
from minidi.testing.fakecupy import STATS
from minidi.testing.fakecupy import cupy as cp


@pytest.fixture
def a():
    return cp.asarray(np.arange(12.0).reshape(3, 4))


def test_its_arrays_are_not_numpy_arrays(a):
    assert isinstance(a, cp.ndarray) and not isinstance(a, np.ndarray)
    assert not issubclass(cp.ndarray, np.ndarray)


@pytest.mark.parametrize("convert", [np.asarray, np.array, np.ascontiguousarray, lambda x: np.float64(x),
                                     lambda x: np.stack([x]),
                                     lambda x: list(np.nditer(x))])
def test_numpy_refuses_implicit_conversion(a, convert):
    with pytest.raises(TypeError):
        convert(a)


@pytest.mark.parametrize("fn", [np.sum, np.mean, np.concatenate, np.linalg.svd, np.argsort, np.exp, np.sqrt,
                                np.abs, np.isfinite, lambda x: np.einsum("ij->j", x), lambda x: np.where(x > 1)])
def test_numpy_functions_refuse_device_arrays(a, fn):
    with pytest.raises(TypeError):
        fn([a, a] if fn is np.concatenate else a)


@pytest.mark.parametrize("fn", [lambda x: scipy.stats.wasserstein_distance(x[0], x[1]), scipy.linalg.svd,
                                lambda x: scipy.stats.kurtosis(x, axis=None)])
def test_scipy_refuses_device_arrays(a, fn):
    with pytest.raises(TypeError):
        fn(a)


@pytest.mark.parametrize("mix", [lambda d, h: d + h, lambda d, h: h + d, lambda d, h: d * h, lambda d, h: h - d,
                                 lambda d, h: d @ h.T, lambda d, h: h.T @ d, lambda d, h: d == h, lambda d, h: d < h,
                                 lambda d, h: cp.maximum(d, h), lambda d, h: cp.where(d > 0, d, h),
                                 lambda d, h: cp.concatenate([d, h]), lambda d, h: d[h.astype(np.int64) % 3],
                                 lambda d, h: d.__setitem__(0, h[0]), lambda d, h: d.__iadd__(h),
                                 lambda d, h: cp.add.at(d, h.astype(np.int64) % 3, 1.0)])
def test_mixing_with_a_host_array_raises(a, mix):
    host = np.ones((3, 4))
    before = a.get()
    with pytest.raises(TypeError):
        mix(a, host)
    np.testing.assert_array_equal(a.get(), before)                     # and nothing was half-done


def test_scalar_conversion_only_for_0d(a):
    with pytest.raises(TypeError, match="only 0-d"):
        float(a)
    with pytest.raises(TypeError, match="only 0-d"):
        int(a[0])
    assert float(a.sum()) == 66.0 and int(a[1, 1]) == 5 and f"{a.max():.1f}" == "11.0"


def test_reductions_return_0d_device_arrays(a):
    for r in (a.sum(), a.max(), cp.sum(a), cp.mean(a), a.argmax(), (a > 3).all(), cp.linalg.norm(a)):
        assert isinstance(r, cp.ndarray) and r.shape == ()


def test_explicit_transfers_work_and_copy(a):
    host = np.arange(4.0)
    d = cp.asarray(host)
    host[0] = 99                                                       # a transfer is a copy
    assert float(d[0]) == 0.0
    np.testing.assert_array_equal(cp.asnumpy(d), [0, 1, 2, 3])
    np.testing.assert_array_equal(d.get(), [0, 1, 2, 3])
    assert cp.asarray(d) is d and cp.asarray(d, dtype=np.float32).dtype == np.float32
    assert isinstance(cp.asnumpy(d), np.ndarray) and isinstance(d.get(), np.ndarray)
    assert isinstance(copy.deepcopy(d), cp.ndarray) and np.array_equal(pickle.loads(pickle.dumps(d)).get(), d.get())


def test_device_arithmetic_matches_numpy(a):
    h = a.get()
    np.testing.assert_array_equal((a * 2 + 1).get(), h * 2 + 1)
    np.testing.assert_array_equal((a @ a.T).get(), h @ h.T)
    np.testing.assert_array_equal(cp.exp(-a).get(), np.exp(-h))
    np.testing.assert_array_equal(a[cp.asarray([2, 0])].get(), h[[2, 0]])
    b = a.copy()
    b[b > 5] = 0
    b += 1
    np.testing.assert_array_equal(b.get(), np.where(h > 5, 0, h) + 1)
    cp.add.at(b, cp.asarray([0, 0]), 1.0)
    assert float(b[0, 0]) == 3.0


def test_only_names_of_the_recorded_cupy_release_are_reachable():
    api = json.load(open(os.path.join(os.path.dirname(fakecupy.__file__), "cupy_api.json")))
    assert api["cupy_version"] == fakecupy.VERSION == "14.2.0" and len(api["modules"]["cupy"]) > 500
    for name in ("nditer", "errstate", "insert", "busday_count", "emath", "np", "json", "API", "STATS"):
        assert name not in api["modules"]["cupy"]
        with pytest.raises(AttributeError, match="has no attribute"):
            getattr(cp, name)
    with pytest.raises(AttributeError, match="does not model cupy.fuse"):
        cp.fuse                                                          # CuPy has it; the stand-in does not
    with pytest.raises(AttributeError, match="has no attribute 'hermitian_svd'"):
        cp.linalg.hermitian_svd
    assert set(dir(cp)) == set(api["modules"]["cupy"]) | {"__version__"}
    with pytest.raises(AttributeError, match="'cupy.ndarray' object has no attribute 'tobytes_'"):
        cp.zeros(2).tobytes_
    with pytest.raises(AttributeError, match="does not model cupy.ndarray.data"):
        cp.zeros(2).data


@pytest.mark.parametrize("call, error", [
    (lambda x: cp.lib.stride_tricks.as_strided(x, shape=(2,), strides=(8,), writeable=False), TypeError),
    (lambda x: cp.lib.stride_tricks.as_strided(x, (2,), (8,), False), TypeError),
    (lambda x: cp.linalg.svd(x, hermitian=False), TypeError),
    (lambda x: cp.asarray(x, like=x), TypeError),
    (lambda x: cp.zeros(3, like=x), TypeError),
    (lambda x: cp.einsum("ij->i", x, out=cp.zeros(3)), TypeError),
    (lambda x: cp.sum(x, where=x > 0), TypeError),
    (lambda x: cp.add(x, 1, where=x > 0), TypeError),
    (lambda x: cp.sort(x, kind="quicksort"), NotImplementedError),
    (lambda x: x.argsort(kind="heapsort"), NotImplementedError),
    (lambda x: x.sum(initial=0), TypeError),
    (lambda x: cp.exp([1.0, 2.0]), TypeError),
])
def test_narrower_cupy_signatures_are_enforced(a, call, error):
    with pytest.raises(error):
        call(a)
    assert cp.sort(a, kind="stable").shape == (3, 4) and cp.einsum("ij->i", a, optimize=True).shape == (3,)


def test_what_backend_needs_is_there(a):
    assert cp.get_array_module(a) is cp and cp.get_array_module(np.zeros(1)) is np
    assert cp.cuda.runtime.getDeviceCount() == 1
    before = STATS["synchronize"]
    cp.cuda.Device().synchronize()
    cp.cuda.get_current_stream().synchronize()
    assert STATS["synchronize"] == before + 2
    pool = cp.get_default_memory_pool()
    pool.free_all_blocks()
    assert pool.used_bytes() == 0


def test_transfers_to_the_host_are_counted(a):
    before = STATS["device_to_host"]
    a.get(), cp.asnumpy(a), float(a.sum()), bool(a.max() > 1), a[0, 0].item()
    assert STATS["device_to_host"] == before + 5
    _ = (a * 2).sum(axis=0), a.T, a.reshape(4, 3), a > 1                # device work alone transfers nothing
    assert STATS["device_to_host"] == before + 5
