"""Byte-pair encoding (BPE): a tokenizer learned by merging the most frequent adjacent pair (Chapter 8).

A text is first its UTF-8 bytes, ids ``0..255``. Training repeats ``vocab_size - 256`` times:

    count every adjacent pair (a, b) of the current sequence,
    pick the most frequent one (ties: the pair whose first occurrence comes first),
    replace its occurrences, left to right, by a new id 256, 257, ...

Encoding applies the learned merges in the order they were learned; decoding concatenates the bytes
of the ids. These are the conventions of Karpathy's minbpe ``BasicTokenizer`` (Sennrich et al.
2016; GPT-2's byte-level BPE).

Public API

* ``BPETokenizer()`` — byte-level BPE without pre-splitting:
  ``.train(text, vocab_size)``, ``.encode(text) -> list[int]``, ``.decode(ids) -> str``;
  after training, ``.merges`` maps each pair ``(a, b)`` to its new id, ``.vocab`` each id to its
  bytes, and ``.n_tokens`` lists the length of the training sequence after ``0, 1, 2, ...`` merges.
* ``RegexTokenizer(pattern=GPT2_SPLIT)`` — the same, after splitting the text into chunks with a
  regular expression (GPT-2's pattern, written with Python's ``re`` classes): merges never cross
  chunk boundaries, and training works on the distinct chunks weighted by their counts.
* ``naive_merges(ids, n_merges)`` — the definition above, written as a loop that recounts every
  pair at every merge: ``O(n)`` per merge. The classes use an incremental trainer (each merge only
  updates the counts next to the merged occurrences) that returns the same merges.

``decode(encode(s)) == s`` for every Python string ``s``, lone surrogates included (they are
encoded as the bytes of UTF-8 with ``surrogatepass``); ids that do not form valid UTF-8 decode with
the replacement character U+FFFD, as in minbpe.
"""
from __future__ import annotations

import heapq
import numbers
import re

import numpy as np

__all__ = ["BPETokenizer", "GPT2_SPLIT", "RegexTokenizer", "naive_merges"]

# GPT-2's split pattern, with \p{L} written [^\W\d_] and \p{N} written \d (Python's re has no \p).
GPT2_SPLIT = r"""'(?:[sdmt]|ll|ve|re)| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+"""

_SHIFT = 32  # a pair (a, b) is stored as the integer (a << 32) | b
_MASK = (1 << _SHIFT) - 1


def _text(text, name="text", allow_empty=False) -> str:
    if not isinstance(text, str):
        raise ValueError(f"{name} must be a str, got {type(text).__name__}")
    if not text and not allow_empty:
        raise ValueError(f"{name} must be a non-empty string")
    return text


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogatepass")


def _n_merges(vocab_size) -> int:
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, numbers.Integral):
        raise ValueError(f"vocab_size must be an integer >= 256, got {vocab_size!r}")
    if vocab_size < 256:
        raise ValueError(f"vocab_size must be >= 256 (the 256 bytes), got {vocab_size}")
    return int(vocab_size) - 256


# ----------------------------------------------------------------------------- the definition

def naive_merges(ids, n_merges: int) -> list:
    """The BPE training loop as defined, recounting all pairs at each merge (minbpe's loop).

    ``ids`` is a list of ints (the bytes of a text); returns the list of merged pairs ``(a, b)``,
    the ``k``-th of which gets the id ``256 + k``. Ties go to the pair seen first, because ``max``
    returns the first maximal key and a dict keeps its keys in the order they were inserted.
    """
    if isinstance(ids, (str, bytes)) or not hasattr(ids, "__iter__"):
        raise ValueError(f"ids must be a sequence of integer ids, got {type(ids).__name__}")
    ids = list(ids)
    if not all(isinstance(i, numbers.Integral) and not isinstance(i, bool) and i >= 0 for i in ids):
        raise ValueError("ids must hold non-negative integer ids")
    if isinstance(n_merges, bool) or not isinstance(n_merges, numbers.Integral) or n_merges < 0:
        raise ValueError(f"n_merges must be an integer >= 0, got {n_merges!r}")
    n_merges = int(n_merges)
    merges = []
    for k in range(n_merges):
        counts = {}
        for pair in zip(ids, ids[1:]):
            counts[pair] = counts.get(pair, 0) + 1
        if not counts:
            raise ValueError(f"n_merges: only {k} merges are possible on this text")
        pair, new, out, i = max(counts, key=counts.get), 256 + k, [], 0
        while i < len(ids):
            if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
                out.append(new)
                i += 2
            else:
                out.append(ids[i])
                i += 1
        ids = out
        merges.append(pair)
    return merges


# ----------------------------------------------------------------------------- incremental trainer

def _distinct(x):
    """The distinct entries of ``x``, sorted (``np.unique`` without its hashing)."""
    x = np.sort(x)
    return x[np.r_[True, x[1:] != x[:-1]]] if x.size else x


def _grouped(keys, weights, values):
    """Distinct ``keys``, the sum of ``weights`` over each, and the bounds of each group in
    ``values`` sorted by key: group ``g`` is ``values[cuts[g]:cuts[g + 1]]``."""
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    first = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if keys.size else order[:0]
    sums = np.add.reduceat(weights[order], first) if keys.size else weights[:0]
    return keys[first], sums, values[order], np.r_[first, keys.size]


class _Merger:
    """Words laid end to end, with their pair counts, merged one pair at a time.

    Position ``i`` holds ``tok[i]`` (``-1`` once absorbed by its left neighbour), links ``nxt[i]``,
    ``prv[i]`` to the live neighbours in its word (``-1`` at the ends) and the weight ``wt[i]`` of its
    word. ``count[p]`` is the weighted number of adjacent occurrences of the pair ``p`` (stored as
    ``(a << 32) | b``) and ``where[p]`` arrays of positions where ``p`` occurred (some stale).
    A merge touches only the neighbours of its occurrences: ``O(occurrences)`` instead of ``O(n)``.
    """

    def __init__(self, words, weights):
        lengths = np.array([len(w) for w in words], dtype=np.int64)
        self.tok = np.frombuffer(b"".join(words), dtype=np.uint8).astype(np.int64)
        self.wt = np.repeat(np.asarray(weights, dtype=np.int64), lengths)
        n, ends = self.tok.size, np.cumsum(lengths)
        self.nxt, self.prv = np.arange(1, n + 1), np.arange(-1, n - 1)
        full = lengths > 0
        self.nxt[ends[full] - 1], self.prv[(ends - lengths)[full]] = -1, -1
        self.starts, self.ends = ends - lengths, ends
        left = np.flatnonzero(self.nxt >= 0)
        keys = (self.tok[left] << _SHIFT) | self.tok[left + 1]
        uniq, totals, pos, cuts = _grouped(keys, self.wt[left], left)
        self.count = dict(zip(uniq.tolist(), totals.tolist()))
        self.where = {q: [pos[s:e]] for q, s, e in zip(uniq.tolist(), cuts[:-1], cuts[1:])}
        self.n_tokens = [int(self.wt.sum())]

    def live(self, p):
        """Positions where the pair ``p`` occurs now, sorted."""
        a, b = p >> _SHIFT, p & _MASK
        pos = _distinct(np.concatenate(self.where.get(p, [np.empty(0, np.int64)])))
        j = self.nxt[pos]
        ok = (self.tok[pos] == a) & (j >= 0)
        ok[ok] = self.tok[j[ok]] == b
        return pos[ok]

    def first_position(self, p) -> int:
        pos = self.live(p)
        self.where[p] = [pos]
        return int(pos[0])

    def merge(self, p, z) -> None:
        """Replace the occurrences of ``p``, left to right, by the id ``z``; update the counts."""
        tok, nxt, prv = self.tok, self.nxt, self.prv
        pos = self.live(p)
        self.where.pop(p, None)
        if pos.size == 0:
            self.n_tokens.append(self.n_tokens[-1])
            return
        if p >> _SHIFT == p & _MASK and pos.size > 1:   # (a, a): in a run a a a, merge every other
            k = np.arange(pos.size)
            cont = np.r_[False, pos[1:] == nxt[pos[:-1]]]
            pos = pos[(k - np.maximum.accumulate(np.where(cont, 0, k))) % 2 == 0]
        j, h = nxt[pos], prv[pos]
        nj = nxt[j]
        old = _distinct(np.concatenate([h[h >= 0], pos, j[nj >= 0]]))   # left ends of old pairs
        old_keys = (tok[old] << _SHIFT) | tok[nxt[old]]
        tok[pos], tok[j], nxt[pos] = z, -1, nj
        prv[nj[nj >= 0]] = pos[nj >= 0]
        hp = prv[pos]
        new = _distinct(np.concatenate([hp[hp >= 0], pos[nj >= 0]]))     # left ends of new pairs
        new_keys = (tok[new] << _SHIFT) | tok[nxt[new]]
        count = self.count
        uniq, totals, _, _ = _grouped(old_keys, self.wt[old], old)
        for q, c in zip(uniq.tolist(), totals.tolist()):
            count[q] -= c
        uniq, totals, new, cuts = _grouped(new_keys, self.wt[new], new)
        self.touched = uniq.tolist()
        for q, c, s, e in zip(self.touched, totals.tolist(), cuts[:-1].tolist(), cuts[1:].tolist()):
            count[q] = count.get(q, 0) + c
            self.where.setdefault(q, []).append(new[s:e])
        count.pop(p, None)
        self.n_tokens.append(self.n_tokens[-1] - int(self.wt[pos].sum()))

    def words(self) -> list:
        """The current tokens of each word."""
        return [[t for t in self.tok[s:e].tolist() if t >= 0] for s, e in zip(self.starts, self.ends)]


def _train(words, weights, n_merges):
    """Learn ``n_merges`` merges on ``words`` (bytes) weighted by ``weights``.

    The most frequent pair comes from a heap of ``(-count, pair)``; entries whose count has changed
    since they were pushed are pushed again with the current count. Ties go to the pair with the
    smallest first position, which in text order is minbpe's first occurrence. Returns the merges
    and the number of tokens after ``0, 1, ...`` merges.
    """
    m = _Merger(words, weights)
    heap = [(-c, p) for p, c in m.count.items() if c > 0]
    heapq.heapify(heap)
    merges = []
    for k in range(n_merges):
        best, candidates = None, set()
        while heap:
            negc, p = heap[0]
            if best is not None and -negc < best:
                break
            heapq.heappop(heap)
            cur = m.count.get(p, 0)
            if cur == -negc:
                best = cur
                candidates.add(p)
            elif 0 < cur < -negc:
                heapq.heappush(heap, (-cur, p))
        if not candidates:
            raise ValueError(f"vocab_size is too large: only {k} merges are possible on this text")
        p = min(candidates, key=m.first_position) if len(candidates) > 1 else candidates.pop()
        for q in candidates - {p}:
            heapq.heappush(heap, (-best, q))
        m.merge(p, 256 + k)
        for q in m.touched:
            if m.count[q] > 0:
                heapq.heappush(heap, (-m.count[q], q))
        merges.append((p >> _SHIFT, p & _MASK))
    return merges, m.n_tokens


def _apply_merges(words, merges) -> list:
    """The words (bytes) with the ``merges`` applied in order, each left to right everywhere."""
    m = _Merger(words, [1] * len(words))
    for k, (a, b) in enumerate(merges):
        p = (a << _SHIFT) | b
        if p in m.where:
            m.merge(p, 256 + k)
    return m.words()


# ----------------------------------------------------------------------------- tokenizers

class BPETokenizer:
    """Byte-level BPE without pre-splitting (minbpe's ``BasicTokenizer`` conventions).

    >>> tok = BPETokenizer(); tok.train("aaabdaaabac", 259); tok.encode("aaabdaaabac")
    [258, 100, 258, 97, 99]
    """

    def __init__(self):
        self.merges: dict = {}                         # (a, b) -> new id, in the order learned
        self.vocab: dict = {i: bytes([i]) for i in range(256)}
        self.n_tokens: list = []

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def _set_merges(self, pairs):
        self.merges = {pair: 256 + k for k, pair in enumerate(pairs)}
        self.vocab = {i: bytes([i]) for i in range(256)}
        for (a, b), z in self.merges.items():
            self.vocab[z] = self.vocab[a] + self.vocab[b]

    def train(self, text: str, vocab_size: int, verbose: bool = False) -> "BPETokenizer":
        """Learn ``vocab_size - 256`` merges on ``text``; returns ``self``."""
        text, n_merges = _text(text), _n_merges(vocab_size)
        pairs, self.n_tokens = _train([_bytes(text)], [1], n_merges)
        self._set_merges(pairs)
        if verbose:
            for (a, b), z in self.merges.items():
                print(f"merge {z - 255}: {self.vocab[a]!r} + {self.vocab[b]!r} -> {z}")
        return self

    def truncated(self, vocab_size: int) -> "BPETokenizer":
        """A copy that keeps only the first ``vocab_size - 256`` merges (a smaller vocabulary)."""
        n = _n_merges(vocab_size)
        if n > len(self.merges):
            raise ValueError(f"vocab_size must be <= {self.vocab_size}, got {vocab_size}")
        out = type(self).__new__(type(self))
        out.__dict__.update(self.__dict__)
        out._set_merges(list(self.merges)[:n])
        out.n_tokens = self.n_tokens[: n + 1]
        return out

    def encode(self, text: str) -> list:
        """The ids of ``text``: its UTF-8 bytes with the merges applied in the order learned."""
        return _apply_merges([_bytes(_text(text, allow_empty=True))], list(self.merges))[0]

    def decode(self, ids) -> str:
        """The text of ``ids`` (bytes concatenated, then UTF-8; invalid UTF-8 becomes U+FFFD)."""
        if isinstance(ids, (str, bytes)) or not hasattr(ids, "__iter__"):
            raise ValueError(f"ids must be a sequence of integers, got {type(ids).__name__}")
        parts = []
        for i in ids:
            if isinstance(i, bool) or not isinstance(i, numbers.Integral) or int(i) not in self.vocab:
                raise ValueError(f"ids must be integers in [0, {self.vocab_size}), got {i!r}")
            parts.append(self.vocab[int(i)])
        raw = b"".join(parts)
        try:
            return raw.decode("utf-8", errors="surrogatepass")
        except UnicodeDecodeError:
            return raw.decode("utf-8", errors="replace")


class RegexTokenizer(BPETokenizer):
    """Byte-level BPE on the chunks of a regular expression (GPT-2's ``pattern`` by default).

    The text is cut by ``re.findall(pattern, text)`` (words with their leading space, numbers,
    runs of punctuation, runs of white space); no merge crosses two chunks. Training counts the
    distinct chunks once and weighs their pairs by the chunk counts; ties go to the pair that
    occurs first in the text, as in minbpe's ``RegexTokenizer``.
    """

    def __init__(self, pattern: str = GPT2_SPLIT):
        super().__init__()
        if not isinstance(pattern, str) or not pattern:
            raise ValueError("pattern must be a non-empty regular expression string")
        try:
            self.pattern = re.compile(pattern)
        except re.error as e:
            raise ValueError(f"pattern is not a valid regular expression: {e}") from None

    def train(self, text: str, vocab_size: int, verbose: bool = False) -> "RegexTokenizer":
        text, n_merges = _text(text), _n_merges(vocab_size)
        counts = {}
        for chunk in self.pattern.findall(text):       # dicts keep the order of first appearance
            counts[chunk] = counts.get(chunk, 0) + 1
        pairs, self.n_tokens = _train([_bytes(c) for c in counts], list(counts.values()), n_merges)
        self._set_merges(pairs)
        return self

    def encode(self, text: str) -> list:
        chunks = self.pattern.findall(_text(text, allow_empty=True))
        distinct = list(dict.fromkeys(chunks))
        ids = dict(zip(distinct, _apply_merges([_bytes(c) for c in distinct], list(self.merges))))
        return [i for c in chunks for i in ids[c]]
