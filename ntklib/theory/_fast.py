"""Fast paths behind ntklib.theory.kernels (private: call ntklib.theory.kernels, which validates the input).

Every closed-form kernel here is an elementwise function of the Gram matrix G = X Z^T, so computing G is
the floor no kernel can beat. The fast path therefore costs one BLAS call plus one pass over G:

- G comes from BLAS: ``syrk`` (one triangle, half the flops of a GEMM) when Z is X, ``gemm`` otherwise;
- the elementwise work (every layer of the recursion at once) is a single fused XLA kernel applied tile
  by tile while the tile is in cache, writing back into G (no n x n temporaries), on every core;
- arcsin/arccos is a polynomial (below) instead of XLA's acos, an atan2 expansion about 8x slower;
- for Z = X only the lower triangle is computed and then mirrored, so the result is exactly symmetric;
- cosines within 4 eps of +-1 count as +-1 (clip_cos): the diagonal and duplicate inputs are exact, where
  arccos is ill-conditioned (d arccos(c)/dc = -1/sqrt(1 - c^2)) and a few ulp of round-off in x . x would
  otherwise cost 1e-8 (float64) or 5e-5 (float32).

Accuracy (tests/test_fast_kernels.py): float64 agrees with the plain numpy closed forms to ~1e-15 (and is
exact where they carry ~1e-8 of round-off, on the diagonal). float32 costs the float32 rounding of the Gram
matrix, amplified by arccos: ~1e-7 relative for typical pairs, up to ~2e-4 per layer for near-duplicate
pairs (angle below 1e-3 rad) of a cross kernel, which float32 cannot resolve.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from functools import cache, partial

import jax
import jax.numpy as jnp
import numpy as np
from scipy.linalg import blas

from . import activations
from .._jaxcompat import enable_x64

TILE = 512        # tile edge: 512 x 512 float64 = 2 MB, a few in L2/L3; large enough that dispatch is cheap
WIDTH_CHUNK = 4096  # empirical NTK: hidden units per chunk, so memory is O(n^2 + n * WIDTH_CHUNK)
_HALF_PI = np.pi / 2


def workers() -> int:
    """Threads for the tile pass: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover (not Linux)
        return max(1, os.cpu_count() or 1)


# --- arcsin as a polynomial ---------------------------------------------------------------------------

@cache
def asin_coefficients(dtype) -> tuple[float, ...]:
    """Coefficients of P with asin(s) = s + s z P(z), z = s^2, for s in [0, 1/2] (Cephes' reduction).

    Fitted once, at first use, by Chebyshev least squares on [0, 1/4] to the Taylor series
    (asin(sqrt z) - sqrt z) / z^(3/2) = sum_k C(2k, k) z^(k-1) / (4^k (2k + 1)), which has no cancellation
    (every term is positive), so the fit is accurate to float64. Degree 11 gives float64 arcsin to
    2 ulp, degree 4 float32 arcsin to 2 ulp (checked on a dense grid in the tests)."""
    from math import comb
    degree = 4 if np.dtype(dtype) == np.float32 else 11
    z = 0.125 * (1.0 - np.cos(np.linspace(0.0, np.pi, 2001)))      # Chebyshev points on [0, 1/4]
    series, power = np.zeros_like(z), np.ones_like(z)
    for k in range(1, 60):                                          # 0.25^60: far below float64 eps
        series += comb(2 * k, k) / 4.0 ** k / (2 * k + 1) * power
        power *= z
    fit = np.polynomial.chebyshev.Chebyshev.fit(z, series, degree, domain=[0.0, 0.25])
    return tuple(float(c) for c in fit.convert(kind=np.polynomial.Polynomial).coef)


def asin(c):
    """arcsin(c) for c in [-1, 1], elementwise in JAX (float32 or float64), branch-free.

    |c| <= 1/2: asin(c) = c + c z P(z) with z = c^2; |c| > 1/2: asin(|c|) = pi/2 - 2 asin(s) with
    s = sqrt((1 - |c|) / 2) <= 1/2 (1 - |c| is exact there), the reduction Cephes' asinf uses."""
    coef = asin_coefficients(np.dtype(c.dtype).type)
    a = jnp.abs(c)
    big = a > 0.5
    z = jnp.where(big, 0.5 - 0.5 * a, a * a)
    s = jnp.where(big, jnp.sqrt(z), a)
    p = jnp.full_like(z, coef[-1])
    for ck in coef[-2::-1]:
        p = p * z + ck
    r = s + s * z * p
    r = jnp.where(big, _HALF_PI - 2.0 * r, r)
    return jnp.copysign(r, c)


def clip_cos(c):
    """Clip a cosine to [-1, 1] and take |c| >= 1 - 4 eps as exactly +-1: x . x and duplicate inputs, whose
    cosine is 1 only up to a few ulp of round-off, which arccos would turn into theta ~ sqrt(2 ulp) (1e-8 in
    float64, 5e-4 in float32). Distinct inputs that close (theta < sqrt(8 eps): 4e-8 rad in float64,
    1e-3 rad in float32) are not resolved by a float Gram matrix anyway."""
    near = 1.0 - 4 * float(jnp.finfo(c.dtype).eps)
    return jnp.where(c >= near, 1.0, jnp.where(c <= -near, -1.0, c))   # also clips to [-1, 1]


# --- fused tile kernels (jitted; one compilation per tile shape, dtype and static configuration) -------

@partial(jax.jit, static_argnames="activation")
def _two_layer_tile(g, ix, iz, a2, activation):
    """H* of the slide model from the Gram tile g = x . z and the inverse norms ix, iz (shape (1, tile)) of
    its rows and columns (the formulas of kernels.ntk_two_layer, with c = x . z / (|x| |z|))."""
    c = clip_cos(g * ix[0][:, None] * iz[0][None, :])
    if activation == "relu":
        e = 0.25 + asin(c) * (0.5 / np.pi)        # (pi - arccos c) / (2 pi), since pi - arccos c = pi/2 + asin c
    else:
        e = 1.0 / jnp.sqrt(4.0 - c * c)
    return (a2 * c * e,)


@partial(jax.jit, static_argnames=("depth", "n_fixed", "return_nngp", "no_bias"))
def _fc_relu_tile(g, sx, sz, ix, iz, w2, b2, scale, depth, n_fixed, return_nngp, no_bias):
    """The arc-cosine recursion of kernels.fc_relu_ntk on one tile, every layer fused.

    g: the Gram tile x . z; sx/sz: sqrt(q) of the rows/columns per layer, shape (depth + 1, tile);
    ix/iz: 1/sqrt(q) (0 where q = 0, as the reference sets cos = 0 there); scale = w2 / d.
    Per layer, with cos = nngp / sqrt(q_x q_z) and pmt = pi - theta = pi/2 + asin(cos):
        nngp <- w2 sqrt(q_x q_z) (sin theta + pmt cos) / (2 pi) + b2,   ntk <- w2 ntk pmt / (2 pi) + nngp.
    Without bias (b2 = 0) sqrt(q) scales by sqrt(w2/2) per layer, so the recursion runs on the normalised
    u = nngp / sqrt(q_x q_z) and t = ntk / sqrt(q_x q_z) with no broadcasts:
        u <- (sin theta + pmt u) / pi,   t <- t pmt / pi + u,   and nngp = u sqrt(q_x q_z) at the end."""
    col = lambda v, l: v[l][:, None]
    row = lambda v, l: v[l][None, :]
    if no_bias:
        u = clip_cos(scale * g * col(ix, 0) * row(iz, 0))
        t = u if n_fixed == 0 else jnp.zeros_like(u)
        for layer in range(1, depth + 1):
            pmt = _HALF_PI + asin(u)
            sin = jnp.sqrt((1.0 - u) * (1.0 + u))
            u = clip_cos((sin + pmt * u) * (1.0 / np.pi))
            t = t * pmt * (1.0 / np.pi) + (u if layer >= n_fixed else 0.0)
        norm = col(sx, depth) * row(sz, depth)
        return (t * norm, u * norm) if return_nngp else (t * norm,)
    nngp = scale * g + b2
    ntk = nngp if n_fixed == 0 else jnp.zeros_like(nngp)
    k = w2 / (2 * np.pi)
    for layer in range(1, depth + 1):
        cos = clip_cos(nngp * col(ix, layer - 1) * row(iz, layer - 1))
        pmt = _HALF_PI + asin(cos)
        sin = jnp.sqrt((1.0 - cos) * (1.0 + cos))
        nngp = k * col(sx, layer - 1) * row(sz, layer - 1) * (sin + pmt * cos) + b2
        ntk = k * ntk * pmt + (nngp if layer >= n_fixed else 0.0)
    return (ntk, nngp) if return_nngp else (ntk,)


@partial(jax.jit, static_argnames=("depth", "no_bias", "keep"))
def _fc_relu_all_tile(g, sx, sz, ix, iz, w2, b2, scale, depth, no_bias, keep):
    """Every kernel of _fc_relu_tile's recursion up to ``depth`` hidden layers from one pass: the NTK with
    D = 0..depth hidden layers and n_fixed = 0..D, in that order ((D + 1)(D + 2) / 2 outputs; D = 0 is the
    linear kernel scale * g + b2). The recursion is _fc_relu_tile's: the kernel of D hidden layers is its
    state after layer D, and n_fixed only decides from which layer on the NNGP term enters the NTK sum
    (Arora et al. 2019, Eq. 4-6), so one accumulator per n_fixed carries every depth along. ``keep``: the
    indices (in that order) of the outputs returned; XLA drops the work only the others need."""
    col = lambda v, l: v[l][:, None]
    row = lambda v, l: v[l][None, :]
    outs = []
    if no_bias:
        u = clip_cos(scale * g * col(ix, 0) * row(iz, 0))
        ts = [u]                                            # ts[f]: normalised NTK with the bottom f layers fixed
        outs.append(u * (col(sx, 0) * row(sz, 0)))
        for layer in range(1, depth + 1):
            pmt = _HALF_PI + asin(u)
            sin = jnp.sqrt((1.0 - u) * (1.0 + u))
            u = clip_cos((sin + pmt * u) * (1.0 / np.pi))
            ts = [t * pmt * (1.0 / np.pi) + u for t in ts] + [u]
            norm = col(sx, layer) * row(sz, layer)
            outs.extend(t * norm for t in ts)
        return tuple(outs[i] for i in keep)
    nngp = scale * g + b2
    ts = [nngp]
    outs.append(nngp)
    k = w2 / (2 * np.pi)
    for layer in range(1, depth + 1):
        cos = clip_cos(nngp * col(ix, layer - 1) * row(iz, layer - 1))
        pmt = _HALF_PI + asin(cos)
        sin = jnp.sqrt((1.0 - cos) * (1.0 + cos))
        nngp = k * col(sx, layer - 1) * row(sz, layer - 1) * (sin + pmt * cos) + b2
        ts = [k * t * pmt + nngp for t in ts] + [nngp]
        outs.extend(ts)
    return tuple(outs[i] for i in keep)


# --- the tile pass -------------------------------------------------------------------------------------

def _tile_shape(n: int) -> int:
    """Tile edge for a dimension of size n: TILE, or the next power of two (>= 8) below it, so that
    small and odd sizes share a few compiled shapes."""
    return min(TILE, max(8, 1 << (int(n) - 1).bit_length()))


def _x64(dtype):
    return enable_x64() if np.dtype(dtype) == np.float64 else nullcontext()


def map_tiles(G, tile_fn, row_vecs=(), col_vecs=(), *, symmetric: bool, n_out: int = 1) -> list[np.ndarray]:
    """Apply ``tile_fn(tile, *row_vecs[:, rows], *col_vecs[:, cols]) -> tuple of n_out arrays`` to G.

    The first output overwrites G in place; further outputs are new arrays. ``symmetric``: G holds a
    symmetric matrix in its lower triangle (the upper one is never read); only tiles on or below the
    diagonal are computed and every output is mirrored, so it is exactly symmetric."""
    n, nz = G.shape
    tr, tc = (_tile_shape(max(n, nz)),) * 2 if symmetric else (_tile_shape(n), _tile_shape(nz))
    dtype = G.dtype
    outs = [G] + [np.empty_like(G) for _ in range(n_out - 1)]
    tiles = [(i, j) for i in range(0, n, tr) for j in range(0, (i + 1) if symmetric else nz, tc)]

    def padded(vs, size, total):  # per-row/column vectors (layers, n) -> zero padded to whole tiles
        out = []
        for v in vs:
            p = np.zeros((v.shape[0], -(-total // size) * size), dtype)
            p[:, :v.shape[1]] = v
            out.append(p)
        return out

    rows, cols = padded(row_vecs, tr, n), padded(col_vecs, tc, nz)

    def run(my_tiles):
        buf = np.zeros((tr, tc), dtype)
        with _x64(dtype):
            for i, j in my_tiles:
                h, w = min(tr, n - i), min(tc, nz - j)
                if (h, w) == (tr, tc):
                    g = G[i:i + h, j:j + w]
                else:                       # an edge tile: pad to the compiled shape
                    buf[:] = 0
                    buf[:h, :w] = G[i:i + h, j:j + w]
                    g = buf
                # numpy arguments go straight to the jitted function (its C++ path copies them in);
                # jnp.asarray first would cost several times more per tile.
                res = tile_fn(g, *(v[:, i:i + tr] for v in rows), *(v[:, j:j + tc] for v in cols))
                for out, r in zip(outs, res):
                    r = np.asarray(r)[:h, :w]
                    if symmetric and i == j:
                        low = np.tril(r)
                        out[i:i + h, j:j + w] = low + np.tril(low, -1).T
                    else:
                        out[i:i + h, j:j + w] = r
                        if symmetric:
                            out[j:j + w, i:i + h] = r.T

    k = min(workers(), len(tiles))
    if k <= 1:
        run(tiles)
    else:  # XLA and numpy release the GIL: one thread per core, tiles dealt round-robin
        with ThreadPoolExecutor(k) as pool:
            list(pool.map(run, [tiles[w::k] for w in range(k)]))
    return outs


def gram(X, Z, dtype) -> tuple[np.ndarray, bool]:
    """(X Z^T in dtype, symmetric). For Z is X: BLAS syrk fills one triangle only (returned as the lower
    triangle of a C-ordered array; the upper one is zeros), half the flops of a GEMM and no mirror copy."""
    X = np.ascontiguousarray(X, dtype)
    if Z is None:
        syrk = blas.ssyrk if np.dtype(dtype) == np.float32 else blas.dsyrk
        # X^T is Fortran-ordered (d, n): syrk(trans=1) computes (X^T)^T X^T = X X^T without a copy, into
        # the upper triangle of a Fortran-ordered result, i.e. the lower triangle of its C-ordered transpose.
        return syrk(1.0, X.T, trans=1).T, True
    return X @ np.ascontiguousarray(Z, dtype).T, False


# --- the kernels --------------------------------------------------------------------------------------

def two_layer(X, Z, activation: str, a2: float, dtype) -> np.ndarray:
    """H* of the slide model (validated X, Z; Z None for the symmetric kernel)."""
    G, symmetric = gram(X, Z, dtype)
    # Normalise by the norms as BLAS rounded them in G (as fc_relu does), not by the nominal 1: some BLAS
    # kernels (AVX-512 float32) round a unit row's x . x more than 4 ulp from 1, past clip_cos's snap, and
    # the diagonal would then miss 1/2 by ~1e-4. With the computed norms cos(x, x) is 1 to ~2 ulp everywhere.
    ix, iz = ((1.0 / np.sqrt(q))[None, :] for q in sq_norms(G, X, Z, dtype, symmetric))
    with _x64(dtype):
        a2_ = jnp.asarray(a2, dtype)
    fn = lambda g, ix_, iz_: _two_layer_tile(g, ix_, iz_, a2_, activation)
    (H,) = map_tiles(G, fn, (ix,), (iz,), symmetric=symmetric)
    return H


def sq_norms(G, X, Z, dtype, symmetric: bool) -> tuple[np.ndarray, np.ndarray]:
    """Squared row norms of X and Z in float64: for Z = X, the diagonal of G as BLAS rounded it, so that
    cos(x, x) = G_xx / |x|^2 is 1 to the last few ulp; else from the dtype-cast inputs."""
    if symmetric:
        q = np.diagonal(G).astype(np.float64)
        return q, q
    sq = lambda A: np.einsum("ij,ij->i", *2 * [np.asarray(A, dtype)], dtype=np.float64)
    return sq(X), sq(Z)


def _layer_norms(sq, d, depth, w2, b2):
    """sqrt(q) and 1/sqrt(q) (0 where q = 0) per layer, shape (depth + 1, n), in float64, from the squared
    input norms: q_0 = w2 ||x||^2 / d + b2 and q_{l+1} = w2 q_l / 2 + b2 (the NNGP diagonal)."""
    q = np.empty((depth + 1, len(sq)))
    q[0] = w2 * sq / d + b2
    for layer in range(depth):
        q[layer + 1] = w2 * q[layer] / 2 + b2
    s = np.sqrt(q)
    return s, np.divide(1.0, s, out=np.zeros_like(s), where=s > 0)


def fc_relu(X, Z, depth: int, w2: float, b2: float, n_fixed: int, return_nngp: bool, dtype):
    """NTK (and NNGP) of the deep ReLU net (validated X, Z; Z None for the symmetric kernel)."""
    G, symmetric = gram(X, Z, dtype)
    d = X.shape[1]
    (sx, ix), (sz, iz) = (_layer_norms(q, d, depth, w2, b2) for q in sq_norms(G, X, Z, dtype, symmetric))
    with _x64(dtype):
        w2_, b2_, scale = (jnp.asarray(v, dtype) for v in (w2, b2, w2 / d))
    fn = lambda g, sx_, ix_, sz_, iz_: _fc_relu_tile(g, sx_, sz_, ix_, iz_, w2_, b2_, scale, depth, n_fixed,
                                                      return_nngp, b2 == 0.0)
    outs = map_tiles(G, fn, (sx, ix), (sz, iz), symmetric=symmetric, n_out=2 if return_nngp else 1)
    return (outs[0], outs[1]) if return_nngp else outs[0]


def fc_relu_all(X, Z, depth: int, w2: float, b2: float, dtype, keys=None) -> dict:
    """{(D, n_fixed): NTK} for D = 0..depth hidden layers and n_fixed = 0..D, from one Gram matrix and one
    fused pass (validated X, Z; Z None for the symmetric kernel). Each entry equals fc_relu(X, Z, D, w2, b2,
    n_fixed, False, dtype) for D >= 1 (tested); D = 0 is the linear kernel w2 x.z / d + b2. ``keys``: only
    these (D, n_fixed) (default all). Memory: the output matrices."""
    G, symmetric = gram(X, Z, dtype)
    d = X.shape[1]
    (sx, ix), (sz, iz) = (_layer_norms(q, d, depth, w2, b2) for q in sq_norms(G, X, Z, dtype, symmetric))
    with _x64(dtype):
        w2_, b2_, scale = (jnp.asarray(v, dtype) for v in (w2, b2, w2 / d))
    every = [(D, f) for D in range(depth + 1) for f in range(D + 1)]
    keys = every if keys is None else [k for k in every if k in set(keys)]
    keep = tuple(every.index(k) for k in keys)
    fn = lambda g, sx_, ix_, sz_, iz_: _fc_relu_all_tile(g, sx_, sz_, ix_, iz_, w2_, b2_, scale, depth, b2 == 0.0,
                                                          keep)
    outs = map_tiles(G, fn, (sx, ix), (sz, iz), symmetric=symmetric, n_out=len(keys))
    return dict(zip(keys, outs))


# --- the empirical NTK of the slide model ----------------------------------------------------------------

@partial(jax.jit, static_argnames="activation")
def _scaled_derivative(Pt, a, activation):
    """S^T = a_r sigma'(w_r . x) from the transposed pre-activations Pt = W X^T (activations.py has sigma')."""
    _, dsigma = activations.get(activation)
    return dsigma(Pt) * a[:, None]


def empirical_two_layer(W, a, X, Z, activation: str, dtype, chunk: int = WIDTH_CHUNK) -> np.ndarray:
    """H(W) = (X Z^T) * (S_X S_Z^T) / m, summed over chunks of hidden units: O(n^2 + n chunk) memory,
    one pre-activation GEMM per input set (W X^T) and one syrk/GEMM for S S^T, all in BLAS.

    For ReLU with |a_r| = 1 (the slide model's a_r = +-1), S_X S_Z^T = D_X D_Z^T with the 0/1 matrix
    D = 1[X W^T > 0] (relu' as in activations.py): an integer matrix that float32 BLAS computes exactly
    (at most chunk < 2^24 terms per entry), accumulated in float64, so float32 GEMMs give the exact result."""
    dtype = np.dtype(dtype)
    W = np.ascontiguousarray(W, dtype)
    m = W.shape[0]
    indicator = activation == "relu" and bool(np.all(np.abs(np.asarray(a)) == 1))
    K, symmetric = gram(X, Z, dtype)
    if symmetric:
        K = _mirror(K)
    Xt = np.ascontiguousarray(X, dtype).T
    Zt = None if Z is None else np.ascontiguousarray(Z, dtype).T
    acc = np.zeros(K.shape, np.float64 if indicator else dtype)

    def derivative(Pt, ac):  # (chunk, n): units along rows, so W's rows are read contiguously
        if indicator:
            return np.greater(Pt, 0).astype(np.float32)
        return np.asarray(_scaled_derivative(Pt, ac, activation))

    with _x64(dtype):
        for r in range(0, m, chunk):
            Wc, ac = W[r:r + chunk], np.asarray(a[r:r + chunk], dtype)
            Sx = derivative(Wc @ Xt, ac)
            acc += Sx.T @ (Sx if Zt is None else derivative(Wc @ Zt, ac))   # A.T @ A is a syrk in numpy
    K *= acc
    K /= m
    return K


def _mirror(L):
    """Fill the upper triangle of a matrix whose lower triangle is set (in place, by row blocks)."""
    n = L.shape[0]
    for i in range(0, n, TILE):
        for j in range(i + TILE, n, TILE):
            L[i:i + TILE, j:j + TILE] = L[j:j + TILE, i:i + TILE].T
        blk = L[i:i + TILE, i:i + TILE]
        blk[:] = np.tril(blk) + np.tril(blk, -1).T
    return L

