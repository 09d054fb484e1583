"""Test support that ships with minidi (for its own test suite): the strict CuPy stand-in (`fakecupy`) and the
script that records the real CuPy API it checks against (`make_cupy_api`). Nothing here is used by the library
unless MINIDI_GPU_STANDIN=1 is set, which only the tests do."""
