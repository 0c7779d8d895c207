"""Chapter 8 measured side by side: BPE training, flash attention's memory, and the GPT across seeds.

1. BPE, 1000 merges on 1 MB of the standard library's source (``data.python_source``), CPU times:
   ``course_lib.tokenizer`` (incremental trainer) against the re-count loop that defines BPE
   (``tokenizer.naive_merges``) and against Hugging Face ``tokenizers`` (Rust; benchmark-only
   dependency). HF's trainer splits the text with GPT-2's regular expression first (its
   ``ByteLevel`` pre-tokenizer; without it, 1 MB is one "word" and it takes minutes), so the like-
   for-like comparison is with our ``RegexTokenizer``; the basic tokenizer is shown too. The
   re-count loop is timed on its first ``--naive-merges`` merges (default 20; 1000 takes minutes),
   checked equal to ours, and extrapolated with its cost ``c x (current length)`` per merge, the
   lengths being those of our trainer; ``--naive-merges 1000`` times all of them. The extrapolation
   is a lower estimate: the count of distinct pairs grows with the vocabulary (one run: 252 s
   extrapolated, 315 s measured, all 1000 merges equal to ours).
2. Attention at N = 4096, d = 64, causal, float64: peak memory (``tracemalloc``) of the naive
   version and of ``attention.flash_attention`` (tiles of 64), and the largest difference.
3. ``--seeds``: the notebook's GPT (150 kB corpus, V = 384, d = 64, 2 layers, context 32, RoPE,
   150 Adam steps of 32 windows) for seeds 0-4, against the best n-gram; prints each margin in
   nats per token and the CPU time (``tests/test_gpt.py`` asserts the same claim).

    python benchmarks/bench_llm.py [--naive-merges 20] [--seeds]
"""
from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
import torch

from course_lib import attention, data, gpt, nets, tokenizer


def cpu(f, *args):
    t0 = time.process_time()
    out = f(*args)
    return time.process_time() - t0, out


def hf_train(text, vocab_size):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tk.train_from_iterator([text], trainer=trainer)
    return tk


def bench_bpe(n_naive):
    text = data.python_source(1_000_000)
    n_merges = 1000
    print(f"BPE: {n_merges} merges on {len(text.encode()):,} bytes of the standard library")
    t_basic, basic = cpu(lambda: tokenizer.BPETokenizer().train(text, 256 + n_merges))
    t_regex, regex = cpu(lambda: tokenizer.RegexTokenizer().train(text, 256 + n_merges))
    w0 = time.perf_counter()
    t_hf, hf = cpu(hf_train, text, 256 + n_merges)
    w_hf = time.perf_counter() - w0
    n_hf = len(hf.encode(text).ids)
    t_naive_part, merges = cpu(tokenizer.naive_merges, list(text.encode()), n_naive)
    assert merges == list(basic.merges)[:n_naive], "the re-count loop and the trainer disagree"
    lengths = np.array(basic.n_tokens[:-1], dtype=float)      # length before merge k
    t_naive = t_naive_part * lengths.sum() / lengths[:n_naive].sum()
    how = "measured" if n_naive >= n_merges else f"first {n_naive} merges measured, extrapolated"
    print(f"{'trainer':>34} | CPU s  | tokens of the text")
    print(f"{'course_lib BPETokenizer':>34} | {t_basic:6.2f} | {basic.n_tokens[-1]:,}")
    print(f"{'course_lib RegexTokenizer':>34} | {t_regex:6.2f} | {regex.n_tokens[-1]:,}")
    print(f"{'HF tokenizers (GPT-2 split)':>34} | {t_hf:6.2f} | {n_hf:,}   (wall {w_hf:.2f} s)")
    print(f"{'re-count loop (' + how[:8] + ')':>34} | {t_naive:6.1f} | same merges as ours ({how})")
    print(f"ratios: RegexTokenizer / HF = {t_regex / t_hf:.2f}, BPETokenizer / HF = {t_basic / t_hf:.2f} "
          f"(issue: <= 20); re-count loop / BPETokenizer = {t_naive / t_basic:.0f} (issue: >= 100)")


def peak_memory(f, *args, **kw):
    tracemalloc.start()
    out = f(*args, **kw)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, out


def bench_attention(N=4096, d=64):
    rng = np.random.default_rng(0)
    Q, K, V = (rng.standard_normal((N, d)) for _ in range(3))
    peak_memory(attention.flash_attention, Q[:8], K[:8], V[:8])            # warm-up
    t0 = time.process_time()
    m_flash, o_flash = peak_memory(attention.flash_attention, Q, K, V, causal=True, block_size=64)
    t_flash = time.process_time() - t0
    t0 = time.process_time()
    m_naive, o_naive = peak_memory(attention.naive_attention, Q, K, V, causal=True)
    t_naive = time.process_time() - t0
    diff = np.abs(o_flash - o_naive).max()
    print(f"\nattention, N = {N}, d = {d}, causal, float64: peak memory naive {m_naive / 2**20:.1f} MiB, "
          f"flash (tiles of 64) {m_flash / 2**20:.2f} MiB: ratio flash / naive = {m_flash / m_naive:.4f} "
          f"(issue: <= 1/8); max |difference| = {diff:.1e}; CPU s naive {t_naive:.2f}, flash {t_flash:.2f}")


def bench_seeds(seeds=range(5)):
    text = data.python_source(150_000)
    split = int(0.9 * len(text))
    tok = tokenizer.BPETokenizer().train(text[:split], 384)
    train, test = np.array(tok.encode(text[:split])), np.array(tok.encode(text[split:]))
    best = min(gpt.ngram_cross_entropy(train, test, n, 384, k) for n in (1, 2, 3)
               for k in (1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0))
    X, Y = gpt.windows(train, 32)
    print(f"\nthe notebook's GPT against the best n-gram ({best:.3f} nats per token), five seeds")
    margins = []
    for seed in seeds:
        torch.manual_seed(seed)
        model = gpt.gpt(384, 64, 4, 2, 32, positions="rope")
        t, _ = cpu(nets.train, model, X, Y, 150, 32, 1e-2, "cross_entropy", "adam", 0.0, seed, False)
        margins.append(best - gpt.cross_entropy(model, test, 32))
        print(f"seed {seed}: held-out margin {margins[-1]:.3f} nats ({t:.0f} s of CPU)")
    print(f"smallest margin over {len(margins)} seeds: {min(margins):.3f} (notebook asserts > 0.1)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--naive-merges", type=int, default=20)
    parser.add_argument("--seeds", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    bench_bpe(args.naive_merges)
    bench_attention()
    if args.seeds:
        bench_seeds()


if __name__ == "__main__":
    main()
