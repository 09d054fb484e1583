"""Test support that ships with minidi: the gradient checker for any layer (`gradcheck`, public), the strict
CuPy stand-in (`fakecupy`) and the script that records the real CuPy API it checks against (`make_cupy_api`).
The stand-in is used only when MINIDI_GPU_STANDIN=1 is set, which only the tests do."""
