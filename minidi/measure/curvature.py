"""The curvature lens: the Hessian's top eigenvalues, its trace and its spectral density, from exact H v
products alone (`minidi.measure.hessian.Hessian`; the full matrix is never formed).

The space is the kept weights: probes and Krylov vectors are masked like the weights, so a pruned weight
adds no zero eigenvalue of its own. n is the number of kept weights.

    lanczos(H, steps)           the tridiagonal T_m of m Lanczos steps (full reorthogonalization). Its
                                eigenvalues (Ritz values) converge to the extreme eigenvalues of H first.
    top_eigenvalues(H, k)       the k largest Ritz values. Error: the residual ‖H q − θ q‖ = β_m |u_m| of each
                                Ritz pair bounds the distance to an eigenvalue of H (Bauer–Fike; H symmetric);
                                returned with the values.
    power_iteration(H)          the eigenvalue of largest magnitude, λ ← vᵀ H v, v ← H v / ‖H v‖, until the
                                relative change is below tol (PyHessian's estimator).
    hutchinson_trace(H, m)      tr H = E[zᵀ H z] for Rademacher z (±1 on the kept weights): the mean of m
                                samples, and its standard error s/√m (s the samples' standard deviation).
    spectral_density(H, m, k)   stochastic Lanczos quadrature: for each of m Rademacher probes z/‖z‖, k Lanczos
                                steps give nodes θ_j (Ritz values) and weights τ_j² (first components of T's
                                eigenvectors); the density is the average of Σ_j τ_j² δ(t − θ_j), smoothed by a
                                Gaussian of width `sigma` to draw it. Exact for polynomial moments up to degree
                                2k − 1 per probe; the probe average has the 1/√m error of Hutchinson's.
"""
import numpy as np

from ..backend import get_array_module
from ..backend import rng as backend_rng
from ..errors import MinidiError, check_number


class FlatSpace:
    """The kept weights of a `Hessian` as one float64 vector on the device: to and from {name: array}."""

    def __init__(self, H):
        self.H, self.names = H, list(H.weights)
        self.shapes = [H.weights[k].shape for k in self.names]
        self.sizes = [int(np.prod(s)) for s in self.shapes]
        w = next(iter(H.weights.values())).data
        self.xp = get_array_module(w)
        self.mask = self.flat({k: (p.mask if p.mask is not None else self.xp.ones_like(p.data))
                               for k, p in H.weights.items()})
        self.n = int(self.mask.sum())
        if self.n == 0:
            raise MinidiError("every weight is masked: the Hessian has no direction left to probe")

    def flat(self, blocks):
        return self.xp.concatenate([self.xp.asarray(blocks[k], dtype=np.float64).ravel() for k in self.names])

    def blocks(self, vec):
        out, start = {}, 0
        for k, shape, size in zip(self.names, self.shapes, self.sizes):
            out[k] = vec[start:start + size].reshape(shape)
            start += size
        return out

    def apply(self, vec):
        """H v for a flat vector v (masked in and out)."""
        return self.flat(self.H @ self.blocks(vec * self.mask)) * self.mask

    def rademacher(self, gen):
        z = self.xp.asarray(gen.integers(0, 2, size=self.mask.shape).astype(np.float64) * 2 - 1)
        return z * self.mask

    def dot(self, a, b):
        return float((a * b).sum())


def lanczos(H, steps, start=None, seed=0):
    """(alphas, betas, Q): m ≤ `steps` Lanczos steps from `start` (default: a Rademacher vector), with full
    reorthogonalization; T = tridiag(betas, alphas, betas) and Q the orthonormal Krylov basis (flat vectors)."""
    steps = check_number(steps, "Lanczos steps", low=1, integer=True)
    space = _space(H)
    q = space.rademacher(backend_rng(seed)) if start is None else start * space.mask
    q = q / np.sqrt(space.dot(q, q))
    Q, alphas, betas = [q], [], []
    for _ in range(min(steps, space.n)):
        w = space.apply(Q[-1])
        alphas.append(space.dot(Q[-1], w))
        basis = space.xp.stack(Q)                           # (k, n): the Krylov basis so far
        for _ in range(2):                                  # reorthogonalize twice: w −= Qᵀ (Q w), on the device
            w = w - basis.T @ (basis @ w)
        beta = np.sqrt(space.dot(w, w))
        if len(alphas) == min(steps, space.n) or beta < 1e-10 * max(1.0, abs(alphas[-1])):
            break
        betas.append(beta)
        Q.append(w / beta)
    return np.array(alphas), np.array(betas), Q, beta


def _ritz(alphas, betas):
    t = np.diag(alphas) + np.diag(betas[:len(alphas) - 1], 1) + np.diag(betas[:len(alphas) - 1], -1)
    return np.linalg.eigh(t)


def _space(H):
    return H if isinstance(H, FlatSpace) else FlatSpace(H)


def top_eigenvalues(H, k=1, steps=30, seed=0):
    """(the k largest Ritz values, their residual bounds β_m |u_m|), largest first. H: a Hessian or its FlatSpace."""
    k = check_number(k, "k", low=1, high=check_number(steps, "Lanczos steps", low=1, integer=True), integer=True)
    alphas, betas, _, beta = lanczos(H, steps, seed=seed)
    theta, u = _ritz(alphas, betas)
    order = np.argsort(theta)[::-1][:k]
    return theta[order], beta * np.abs(u[-1, order])


def power_iteration(H, iters=100, tol=1e-6, seed=0):
    """The eigenvalue of largest magnitude of H (and the iterations it took)."""
    iters = check_number(iters, "iterations", low=1, integer=True)
    tol = check_number(tol, "tol", low=0, low_open=True)
    space = _space(H)
    v = space.rademacher(backend_rng(seed))
    v = v / np.sqrt(space.dot(v, v))
    eig = None
    for i in range(1, iters + 1):
        w = space.apply(v)
        new = space.dot(v, w)
        norm = np.sqrt(space.dot(w, w))
        if norm == 0:
            return 0.0, i
        v = w / norm
        if eig is not None and abs(new - eig) <= tol * max(abs(new), 1e-30):
            return new, i
        eig = new
    return eig, iters


def hutchinson_trace(H, probes=50, seed=0):
    """(estimate of tr H, its standard error): the mean of zᵀ H z over Rademacher probes z (one probe: no
    standard error, inf)."""
    probes = check_number(probes, "probes", low=1, integer=True)
    space = _space(H)
    gen = backend_rng(seed)
    samples = []
    for _ in range(probes):
        z = space.rademacher(gen)
        samples.append(space.dot(z, space.apply(z)))
    samples = np.array(samples)
    return float(samples.mean()), float(samples.std(ddof=1) / np.sqrt(probes)) if probes > 1 else float("inf")


def spectral_density(H, probes=5, steps=30, seed=0):
    """(nodes, weights): stochastic Lanczos quadrature, one row per probe; each row's weights sum to 1."""
    probes = check_number(probes, "probes", low=1, integer=True)
    steps = check_number(steps, "Lanczos steps", low=1, integer=True)
    space = _space(H)
    gen = backend_rng(seed)
    nodes, weights = [], []
    for _ in range(probes):
        alphas, betas, _, _ = lanczos(space, steps, start=space.rademacher(gen))
        theta, u = _ritz(alphas, betas)
        pad = steps - len(theta)                            # a short Krylov space (tiny nets): zero weights
        nodes.append(np.concatenate([theta, np.zeros(pad)]))
        weights.append(np.concatenate([u[0] ** 2, np.zeros(pad)]))
    return np.array(nodes), np.array(weights)


def density_curve(nodes, weights, grid, sigma):
    """The SLQ density on `grid`: the probes' average of Σ_j τ_j² N(t; θ_j, σ²)."""
    grid = np.asarray(grid, dtype=np.float64)[:, None, None]
    kernel = np.exp(-0.5 * ((grid - nodes[None]) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))
    return (kernel * weights[None]).sum(axis=2).mean(axis=1)


BASIS_BYTES = 4 * 2 ** 30         # what the Lanczos basis may hold: its steps × weights float64 numbers


def max_lanczos_steps(n_weights, budget=BASIS_BYTES):
    """The most Lanczos steps worth asking for on `n_weights` weights: no more than the dimension (the Krylov
    space is then whole) and no more than a basis of `budget` bytes holds (k vectors of n float64 numbers)."""
    return max(1, min(int(n_weights), int(budget // (8 * int(n_weights)))))


def summary(H, steps=20, probes=20, seed=0):
    """The lens in one dict: top eigenvalue (Lanczos, with its residual bound), trace ± standard error, n."""
    space = FlatSpace(H)                                    # one flattening of the weights for both estimates
    top, bound = top_eigenvalues(space, 1, steps, seed)
    trace, error = hutchinson_trace(space, probes, seed + 1)
    return {"top_eigenvalue": float(top[0]), "top_residual": float(bound[0]), "trace": trace, "trace_se": error,
            "weights": space.n, "loss": H.loss}


__all__ = ["FlatSpace", "lanczos", "top_eigenvalues", "power_iteration", "hutchinson_trace", "spectral_density",
           "density_curve", "summary", "max_lanczos_steps", "BASIS_BYTES"]
