"""The maths of aggregation: pure NumPy functions on flat parameter vectors.

Inputs are float32 vectors (or an ``n × d`` float32 matrix), one per update,
already in canonical order (sorted by update id). Results are float64; the
caller rounds once to float32. Determinism rules, so that every client and the
auditor get the same bits on any IEEE-754 machine:

* sums that produce values are sequential in float64 (``acc += w·x`` row by row,
  or ``np.cumsum``), never BLAS, whose summation order varies by library and
  thread count;
* dot products that feed values (FLTrust, FoolsGold) use :func:`stable_dot`;
* BLAS is used only to *rank* updates (Krum distances via a Gram matrix), where
  a last-bit difference cannot change the outcome unless two scores tie, and
  ties are broken by update order;
* integer buffers (BatchNorm's ``num_batches_tracked``, flags) are never averaged
  as floats: each value of the aggregate is the lower weighted median of the
  updates' values (:func:`weighted_median`), always one of them, so it is exact
  and keeps its dtype.

Papers: FedAvg (McMahan et al., AISTATS 2017); coordinate-wise median and
trimmed mean (Yin et al., ICML 2018); Krum and Multi-Krum (Blanchard et al.,
NeurIPS 2017); Bulyan (El Mhamdi et al., ICML 2018); FLTrust (Cao et al.,
NDSS 2021); FoolsGold (Fung et al., RAID 2020).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from flchain.exceptions import AggregationError

_CHUNK = 1 << 16
_AVG_BLOCK = 1 << 15
_SORT_BLOCK = 1 << 13


def stable_dot(a: np.ndarray, b: np.ndarray) -> float:
    """Dot product summed strictly left to right in float64: the same bits everywhere."""
    if a.size == 0:
        return 0.0
    return float(np.cumsum(np.multiply(a, b, dtype=np.float64))[-1])


Rows = Sequence[Sequence[np.ndarray]]
"""Updates as rows of flat float32 segments (one per tensor, sorted names): no copy of the model."""


def weighted_average(rows: Rows, weights: Sequence[float]) -> np.ndarray:
    """Σ wᵢ·xᵢ / Σ wᵢ, accumulated in order in float64.

    ``rows[i]`` is update ``i`` as segments laid end to end (all rows alike); a
    plain vector is a row of one segment. Each coordinate's sum runs over the
    rows in order, ``acc += float64(xᵢ)·wᵢ``, one cache-sized block of
    coordinates at a time: the same bits as summing whole vectors, without a
    flattened copy of the updates or a pass over memory per update.
    """
    if len(rows) != len(weights) or not rows:
        raise AggregationError("weighted average needs one weight per vector, and some vectors")
    w = np.asarray(weights, dtype=np.float64)
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise AggregationError("aggregation weights must be finite and >= 0")
    total = float(np.cumsum(w)[-1])
    if total <= 0:
        raise AggregationError("aggregation weights sum to zero")
    sizes = [int(part.size) for part in rows[0]]
    active = [(row, wi) for row, wi in zip(rows, w, strict=True) if wi != 0]
    out = np.zeros(sum(sizes), dtype=np.float64)
    tmp = np.empty(min(_AVG_BLOCK, max(sizes, default=0)), dtype=np.float64)
    offset = 0
    for j, size in enumerate(sizes):
        for s in range(0, size, _AVG_BLOCK):
            e = min(s + _AVG_BLOCK, size)
            acc, t = out[offset + s : offset + e], tmp[: e - s]
            for row, wi in active:
                np.multiply(row[j][s:e], wi, out=t)
                acc += t
        offset += size
    out /= total
    return out


def weighted_median(X: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """Per coordinate, the lower weighted median of the rows of ``X``, in ``X``'s dtype.

    ``X`` stacks one integer (or bool) array per update, in canonical order. For
    each coordinate the values are sorted (stably, so equal values keep update
    order), their weights summed in that order in float64, and the result is the
    first value at which the running sum reaches half the total. It is always a
    value some update with a positive weight sent: no rounding, no overflow, and
    for bool buffers it is the weighted majority (a tie gives ``False``).
    """
    n = X.shape[0] if X.ndim else 0
    w = np.asarray(weights, dtype=np.float64)
    if n == 0 or w.shape != (n,):
        raise AggregationError("weighted median needs one weight per update, and some updates")
    if np.any(w < 0) or not np.all(np.isfinite(w)) or not np.any(w > 0):
        raise AggregationError("weighted median weights must be finite, >= 0 and not all 0")
    flat = X.reshape(n, -1)
    order = np.argsort(flat, axis=0, kind="stable")
    running = np.cumsum(w[order], axis=0)
    pick = np.argmax(2.0 * running >= running[-1], axis=0)
    rows = np.take_along_axis(order, pick[None, :], axis=0)[0]
    out: np.ndarray = flat[rows, np.arange(flat.shape[1])].reshape(X.shape[1:])
    return out


def stack(rows: Rows) -> np.ndarray:
    """The rows (segments laid end to end, as float32) as one ``n × d`` float32 matrix."""
    d = sum(int(part.size) for part in rows[0]) if rows else 0
    X = np.empty((len(rows), d), dtype=np.float32)
    for i, row in enumerate(rows):
        offset = 0
        for part in row:
            X[i, offset : offset + part.size] = part
            offset += part.size
    return X


def _sorted_columns(X: np.ndarray) -> Iterator[tuple[slice, np.ndarray]]:
    """Yield ``(columns, T)`` where ``T`` is ``X[:, columns].T`` sorted along each row.

    Working on cache-sized column blocks, transposed so each coordinate's values
    are contiguous, is several times faster than sorting ``X`` along axis 0.
    """
    d = X.shape[1]
    for s in range(0, d, _SORT_BLOCK):
        cols = slice(s, min(s + _SORT_BLOCK, d))
        T = np.ascontiguousarray(X[:, cols].T)
        T.sort(axis=1)
        yield cols, T


def coordinate_median(X: np.ndarray) -> np.ndarray:
    """Coordinate-wise median of the rows of ``X`` (mean of the two middle values if n is even).

    A full sort of each column block: NumPy's SIMD sort beats ``np.partition`` here.
    """
    n, d = X.shape
    if n == 0:
        raise AggregationError("median of no updates")
    mid = n // 2
    out = np.empty(d, dtype=np.float64)
    for cols, T in _sorted_columns(X):
        if n % 2:
            out[cols] = T[:, mid]
        else:
            block = T[:, mid - 1].astype(np.float64)
            block += T[:, mid]
            out[cols] = block * 0.5
    return out


def trim_count(n: int, beta: float) -> int:
    """How many values trimmed mean drops from *each* end: ``floor(beta·n)``."""
    if not 0 <= beta < 0.5:
        raise AggregationError(f"trimmed mean fraction must be in [0, 0.5), got {beta}")
    k = int(np.floor(beta * n))
    if n - 2 * k < 1:
        raise AggregationError(f"trimming {k} from each end of {n} updates leaves nothing")
    return k


def trimmed_mean(X: np.ndarray, beta: float) -> np.ndarray:
    """Coordinate-wise mean after dropping the ``floor(beta·n)`` largest and smallest values."""
    n = X.shape[0]
    k = trim_count(n, beta)
    out = np.empty(X.shape[1], dtype=np.float64)
    for cols, T in _sorted_columns(X):
        acc = np.zeros(T.shape[0], dtype=np.float64)
        for i in range(k, n - k):
            acc += T[:, i]
        out[cols] = acc / (n - 2 * k)
    return out


def gram_matrix(X: np.ndarray, center: np.ndarray) -> np.ndarray:
    """Gram matrix of the rows of ``X − center`` in float64, in column chunks (BLAS).

    BLAS runs on one thread: the result then does not depend on the machine's
    thread count, and a busy machine does not stall on spinning BLAS workers.
    """
    from threadpoolctl import threadpool_limits

    n, d = X.shape
    G = np.zeros((n, n), dtype=np.float64)
    with threadpool_limits(limits=1, user_api="blas"):
        for s in range(0, d, _CHUNK):
            C = X[:, s : s + _CHUNK].astype(np.float64)
            C -= center[s : s + _CHUNK]
            G += C @ C.T
    return G


def squared_distances(X: np.ndarray, center: np.ndarray) -> np.ndarray:
    """Pairwise squared Euclidean distances between rows, via ‖a‖² + ‖b‖² − 2a·b."""
    G = gram_matrix(X, center)
    norms = np.diag(G)
    D = norms[:, None] + norms[None, :] - 2.0 * G
    np.maximum(D, 0.0, out=D)
    np.fill_diagonal(D, 0.0)
    return D


def krum_scores(D: np.ndarray, f: int) -> np.ndarray:
    """Krum score of each row: the sum of its ``n − f − 2`` smallest distances to the others."""
    n = D.shape[0]
    k = max(1, n - f - 2)
    if n == 1:
        return np.zeros(1)
    others = np.sort(D + np.diag(np.full(n, np.inf)), axis=1)[:, : min(k, n - 1)]
    return np.cumsum(others, axis=1)[:, -1]


def lowest(scores: np.ndarray, m: int) -> np.ndarray:
    """Indices of the ``m`` lowest scores, ties broken by position (stable)."""
    return np.argsort(scores, kind="stable")[:m]


def bulyan_select(D: np.ndarray, f: int, theta: int) -> list[int]:
    """Bulyan's selection: apply Krum repeatedly, moving the winner to the selection set."""
    remaining = list(range(D.shape[0]))
    chosen: list[int] = []
    while len(chosen) < theta:
        sub = D[np.ix_(remaining, remaining)]
        best = int(lowest(krum_scores(sub, f), 1)[0])
        chosen.append(remaining.pop(best))
    return sorted(chosen)


def bulyan_coordinate(X: np.ndarray, beta: int) -> np.ndarray:
    """Per coordinate, the mean of the ``beta`` values closest to the median (El Mhamdi et al.).

    Values at equal distance from the median are taken smaller value first, so
    the result depends only on the multiset of values, never on row order.
    Those ``beta`` values are a window ``T[j : j + beta]`` of the sorted
    column: window ``j + 1`` replaces ``T[j]`` by ``T[j + beta]``, which is
    better exactly when ``med − T[j] > T[j + beta] − med``. Both sides are
    monotone in ``j``, so the best start is the number of windows for which
    that holds.
    """
    theta = X.shape[0]
    if not 1 <= beta <= theta:
        raise AggregationError(f"Bulyan needs 1 <= beta <= {theta}, got {beta}")
    mid = theta // 2
    out = np.empty(X.shape[1], dtype=np.float64)
    for cols, T in _sorted_columns(X):
        if theta % 2:
            med = T[:, mid].astype(np.float64)
        else:
            med = (T[:, mid - 1].astype(np.float64) + T[:, mid]) * 0.5
        below = med[:, None] - T[:, : theta - beta]
        above = T[:, beta:] - med[:, None]
        start = np.count_nonzero(below > above, axis=1)
        acc = np.zeros(T.shape[0], dtype=np.float64)
        for k in range(beta):
            acc += np.take_along_axis(T, (start + k)[:, None], axis=1)[:, 0]
        out[cols] = acc / beta
    return out


def fltrust_combine(
    deltas: Sequence[np.ndarray], root_delta: np.ndarray
) -> tuple[np.ndarray, list[float]]:
    """FLTrust: ReLU-cosine trust to the root update, client updates rescaled to its norm.

    Returns the combined delta Σ TSᵢ·(‖g₀‖/‖gᵢ‖)·gᵢ / Σ TSᵢ and the normalised
    trust weights (all zero, and a zero delta, if no client points the root's way).
    """
    root_norm = float(np.sqrt(stable_dot(root_delta, root_delta)))
    trust, scale = [], []
    for g in deltas:
        norm = float(np.sqrt(stable_dot(g, g)))
        if norm == 0 or root_norm == 0:
            trust.append(0.0)
            scale.append(0.0)
            continue
        cos = stable_dot(g, root_delta) / (norm * root_norm)
        trust.append(max(0.0, cos))
        scale.append(root_norm / norm)
    total = float(np.cumsum([0.0, *trust])[-1])
    out = np.zeros(root_delta.shape, dtype=np.float64)
    if total == 0:
        return out, [0.0] * len(deltas)
    for g, ts, sc in zip(deltas, trust, scale, strict=True):
        if ts:
            out += np.multiply(g, np.float64(ts * sc), dtype=np.float64)
    out /= total
    return out, [t / total for t in trust]


def foolsgold_weights(histories: Sequence[np.ndarray]) -> list[float]:
    """FoolsGold learning rates from clients' summed update histories (reference algorithm).

    Pairwise cosine similarity, "pardoning" of honest clients that resemble a
    sybil, then the logit squashing of the paper with κ = 1. Weights are
    rounded to 12 decimals so that last-bit differences of ``log`` between
    platforms cannot leak into the aggregate.
    """
    n = len(histories)
    norms = [float(np.sqrt(stable_dot(h, h))) for h in histories]
    cs = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            denom = norms[i] * norms[j]
            cs[i, j] = cs[j, i] = stable_dot(histories[i], histories[j]) / denom if denom else 0.0
    maxcs = cs.max(axis=1)  # the diagonal is cos(i, i) − 1 = 0, as in the reference code
    for i in range(n):
        for j in range(n):
            if i != j and maxcs[i] < maxcs[j]:
                cs[i, j] *= maxcs[i] / maxcs[j]
    wv = np.clip(1.0 - cs.max(axis=1), 0.0, 1.0)
    if wv.max() == 0:
        return [0.0] * n
    wv = wv / wv.max()
    wv[wv == 1.0] = 0.99
    with np.errstate(divide="ignore"):
        logit = np.log(wv / (1.0 - wv)) + 0.5
    logit[logit > 1] = 1.0
    logit[logit < 0] = 0.0  # includes log(0) = -inf
    return [round(float(v), 12) for v in logit]
