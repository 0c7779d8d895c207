"""Tests of course_lib.tokenizer: the incremental BPE trainer against a brute-force re-count (ties
included), encoding against merges applied one sweep at a time, round-trips on arbitrary Unicode."""
import random
import re
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_lib import tokenizer


def recount_reference(chunks, n_merges):
    """BPE by brute force: recount all pairs (inside each chunk) after every merge; among the most
    frequent pairs take the one whose first occurrence, scanning the chunks in order, comes first."""
    chunks = [list(c) for c in chunks]
    merges = []
    for k in range(n_merges):
        counts, first = Counter(), {}
        for c, ids in enumerate(chunks):
            for i in range(len(ids) - 1):
                pair = (ids[i], ids[i + 1])
                counts[pair] += 1
                first.setdefault(pair, (c, i))
        top = max(counts.values())
        pair = min((p for p in counts if counts[p] == top), key=first.get)
        merges.append(pair)
        chunks = [sweep(ids, pair, 256 + k) for ids in chunks]
    return merges


def sweep(ids, pair, new):
    out, i = [], 0
    while i < len(ids):
        if ids[i:i + 2] == list(pair):
            out.append(new)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def encode_reference(text, merges):
    ids = list(text.encode("utf-8", "surrogatepass"))
    for k, pair in enumerate(merges):
        ids = sweep(ids, pair, 256 + k)
    return ids


def random_text(rng, n):
    alphabet = rng.choice(["ab", "aab", "abc ", "a", "xy\nz", "héllo wörld", "ab ab  cd!"])
    return "".join(rng.choice(alphabet) for _ in range(n))


def max_merges(text):
    return len(text.encode()) - 1


def test_minbpe_example():
    tok = tokenizer.BPETokenizer().train("aaabdaaabac", 259)
    assert tok.encode("aaabdaaabac") == [258, 100, 258, 97, 99]
    assert list(tok.merges.items()) == [((97, 97), 256), ((256, 97), 257), ((257, 98), 258)]
    assert tok.decode([258, 100, 258, 97, 99]) == "aaabdaaabac"


@pytest.mark.parametrize("seed", range(40))
def test_trainer_equals_recount_reference_on_random_texts(seed):
    rng = random.Random(seed)
    text = random_text(rng, rng.randint(2, 120))
    n = rng.randint(1, min(12, max_merges(text)))
    try:
        want = recount_reference([text.encode()], n)
    except ValueError:                            # the text collapses before n merges
        with pytest.raises(ValueError, match="vocab_size"):
            tokenizer.BPETokenizer().train(text, 256 + n)
        return
    tok = tokenizer.BPETokenizer().train(text, 256 + n)
    assert list(tok.merges) == want
    assert tokenizer.naive_merges(list(text.encode()), n) == want
    assert tok.encode(text) == encode_reference(text, want)
    assert len(tok.encode(text)) == tok.n_tokens[-1] and len(tok.n_tokens) == n + 1


def test_ties_go_to_the_first_occurrence():
    # every pair occurs twice; "cd" occurs first, "ab" has the smaller ids
    tok = tokenizer.BPETokenizer().train("cdxab cd ab", 257)
    assert list(tok.merges) == [(ord("c"), ord("d"))]
    # overlapping pairs: "aaaa" has three (a, a) but one merge makes "XX"
    tok = tokenizer.BPETokenizer().train("aaaa", 258)
    assert tok.encode("aaaa") == [257] and tok.n_tokens == [4, 2, 1]


@pytest.mark.parametrize("seed", range(15))
def test_regex_trainer_equals_recount_over_chunks(seed):
    rng = random.Random(100 + seed)
    text = random_text(rng, rng.randint(20, 200))
    chunks = [c.encode() for c in re.findall(tokenizer.GPT2_SPLIT, text)]
    assert b"".join(chunks) == text.encode()
    n_pairs = sum(len(c) - 1 for c in chunks)
    n = min(8, n_pairs)
    if n == 0:
        return
    try:
        want = recount_reference(chunks, n)
    except ValueError:
        return                                     # fewer merges possible than asked
    tok = tokenizer.RegexTokenizer().train(text, 256 + n)
    assert list(tok.merges) == want
    assert tok.encode(text) == [i for c in chunks for i in encode_reference(c.decode(), want)]


def test_python_source_round_trip_and_compression():
    text = (tokenizer.__file__ and open(tokenizer.__file__, encoding="utf-8").read())[:20000]
    for tok in (tokenizer.BPETokenizer(), tokenizer.RegexTokenizer()):
        tok.train(text, 400)
        ids = tok.encode(text)
        assert tok.decode(ids) == text and len(ids) == tok.n_tokens[-1]
        assert all(a > b for a, b in zip(tok.n_tokens, tok.n_tokens[1:]))  # each merge shortens
        small = tok.truncated(300)
        assert small.vocab_size == 300 and len(small.encode(text)) == tok.n_tokens[44]


UNICODE = ["", "héllo wörld", "日本語のテキスト", "emoji 🙂👍🏽 and 🇫🇷", "a\ud800b", "\udfff",
           "tabs\tand\r\nnewlines", "\x00\x7f\u200b", "ﬁ ligature and Ω"]


@pytest.mark.parametrize("cls", [tokenizer.BPETokenizer, tokenizer.RegexTokenizer])
def test_round_trip_on_arbitrary_unicode(cls):
    tok = cls().train("the quick brown fox 🙂 日本 " * 20, 270)
    for s in UNICODE:
        ids = tok.encode(s)
        assert tok.decode(ids) == s and all(0 <= i < 270 for i in ids)


@given(st.text(max_size=60))
def test_round_trip_hypothesis(s):
    tok = tokenizer.BPETokenizer().train("abc abc abd 🙂🙂 ab", 262)
    assert tok.decode(tok.encode(s)) == s


def test_decode_of_invalid_utf8_uses_the_replacement_character():
    tok = tokenizer.BPETokenizer()
    assert tok.decode([0xFF, ord("a")]) == "\ufffda"
    assert tok.decode([0xE6, 0x97]) == "\ufffd"    # half of a CJK character


def test_bad_input():
    tok = tokenizer.BPETokenizer()
    with pytest.raises(ValueError, match="text"):
        tok.train("", 300)
    with pytest.raises(ValueError, match="text"):
        tok.train(b"bytes", 300)
    with pytest.raises(ValueError, match="vocab_size"):
        tok.train("abc", 255)
    with pytest.raises(ValueError, match="vocab_size"):
        tok.train("abc", 300.0)
    with pytest.raises(ValueError, match="vocab_size"):
        tok.train("abab", 300)                      # only 2 merges are possible
    tok.train("abab", 257)
    with pytest.raises(ValueError, match="ids"):
        tok.decode([257])
    with pytest.raises(ValueError, match="ids"):
        tok.decode([-1])
    with pytest.raises(ValueError, match="ids"):
        tok.decode("ab")
    with pytest.raises(ValueError, match="text"):
        tok.encode(None)
    with pytest.raises(ValueError, match="vocab_size"):
        tok.truncated(258)
    with pytest.raises(ValueError, match="pattern"):
        tokenizer.RegexTokenizer("(")
