"""Integrated Gradients: exprlab against Captum, in the same process.

1. The explanation paper's MLP (15,000 genes → 20 → BatchNorm → ReLU → 33 classes; random
   weights, BatchNorm in eval mode with non-trivial running statistics), 256 examples, the
   softmax probability of a target class, Gauss–Legendre with 50 and 3,000 steps. exprlab takes
   its exact after-first-layer path. Captum at 3,000 steps is timed on a subset of examples
   and extrapolated per example (printed as such).
2. A model whose first operation is not linear (a 1-D convolution over genes first): exprlab's
   generic path against Captum with the same internal batch size.

Each row prints both times, the speed-up and the largest difference between the two results,
relative to the largest attribution; the run fails if a difference exceeds ``--tolerance``.
Both libraries run in this process with the same torch thread setting (``--threads``).

3. ``--part threads``: the exact path of part 1 (50 steps) with torch's default thread count
   (exprlab's behaviour before it chose its own) and with the count exprlab chooses, on the
   machine as it is ("idle") and while ``--busy`` extra processes spin on the CPU ("busy"),
   with Captum (torch's default threads) timed under the same load. Prints each time, the
   speed-up over Captum and the slowdown busy / idle of each setting.

    nice -n 10 python benchmarks/bench_ig.py
    python benchmarks/bench_ig.py --part threads --busy 2
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time

import numpy as np
import torch
from captum.attr import IntegratedGradients
from captum.attr._utils.approximation_methods import approximation_parameters
from torch import nn

from exprlab.explain import integrated_gradients
from exprlab.models import MLP


def paper_mlp(n_genes: int, n_classes: int, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    model = MLP(n_genes, n_classes, hidden=20)
    batch_norm = model[1]
    with torch.no_grad():
        batch_norm.running_mean.normal_(0.0, 0.5)
        batch_norm.running_var.uniform_(0.5, 2.0)
        batch_norm.weight.uniform_(0.5, 1.5)
        batch_norm.bias.normal_(0.0, 0.2)
    return model.eval()


def conv_first(n_genes: int, n_classes: int, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    channels, kernel, stride = 4, 16, 8
    length = (n_genes - kernel) // stride + 1
    return nn.Sequential(
        nn.Unflatten(1, (1, n_genes)),
        nn.Conv1d(1, channels, kernel, stride),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(channels * length, n_classes),
    ).eval()


def timed(fn, repeat: int = 1):
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def rel_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / np.abs(b).max())


def spin(stop) -> None:
    """Keep one core busy until ``stop`` is set (the load of the "busy" case)."""
    x = 0
    while not stop.is_set():
        for _ in range(100_000):
            x += 1


class BusyMachine:
    """``n`` processes spinning on the CPU for the duration of a ``with`` block."""

    def __init__(self, n: int):
        self.n = n
        context = multiprocessing.get_context("spawn")
        self.stop = context.Event()
        self.procs = [context.Process(target=spin, args=(self.stop,), daemon=True) for _ in range(n)]

    def __enter__(self):
        for proc in self.procs:
            proc.start()
        time.sleep(1.0)  # let them start spinning
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for proc in self.procs:
            proc.join(10)


def threads_study(args, model, x, target) -> None:
    """exprlab's exact path with torch's default threads vs its own choice, idle and busy."""
    default = torch.get_num_threads()
    settings = {f"torch default ({default} threads)": default, "exprlab's choice": None}
    captum = IntegratedGradients(lambda t: torch.softmax(model(t), dim=1))
    steps = args.steps[0]
    times: dict[tuple[str, str], float] = {}
    for load in ("idle", "busy"):
        with BusyMachine(args.busy if load == "busy" else 0):
            load_avg = os.getloadavg()[0]
            for name, threads in settings.items():
                ours = lambda: integrated_gradients(model, x, None, target, n_steps=steps, threads=threads)  # noqa: E731
                ours()
                times[(name, load)], _ = timed(ours, repeat=args.repeats)
            times[("Captum", load)], _ = timed(
                lambda: captum.attribute(x, torch.zeros_like(x), target=target, n_steps=steps),
                repeat=max(1, args.repeats // 3),
            )
        print(f"  {load}: load average {load_avg:.1f} during the runs", flush=True)
    print(
        f"\npaper MLP, {args.examples} examples x {args.genes} genes, {steps} steps, exact path; "
        f"busy = {args.busy} spinning processes on {os.cpu_count()} cores; best of {args.repeats}"
    )
    header = f"{'setting':<28}{'idle s':>10}{'busy s':>10}{'busy/idle':>11}{'vs Captum idle':>16}{'vs Captum busy':>16}"
    print(header)
    print("-" * len(header))
    for name in (*settings, "Captum"):
        idle, busy = times[(name, "idle")], times[(name, "busy")]
        print(
            f"{name:<28}{idle:>10.4f}{busy:>10.4f}{busy / idle:>10.1f}x"
            f"{times[('Captum', 'idle')] / idle:>15.1f}x{times[('Captum', 'busy')] / busy:>15.1f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--genes", type=int, default=15000)
    parser.add_argument("--classes", type=int, default=33)
    parser.add_argument("--examples", type=int, default=256)
    parser.add_argument("--steps", type=int, nargs="+", default=[50, 3000])
    parser.add_argument(
        "--captum-subset",
        type=int,
        default=16,
        help="examples Captum runs at step counts above --full-captum-steps",
    )
    parser.add_argument("--full-captum-steps", type=int, default=50)
    parser.add_argument(
        "--captum-batch", type=int, default=2000, help="Captum internal_batch_size (rows of examples x steps)"
    )
    parser.add_argument("--conv-examples", type=int, default=64)
    parser.add_argument("--conv-steps", type=int, default=50)
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--part", choices=("captum", "threads"), default="captum")
    parser.add_argument(
        "--busy", type=int, default=2, help="spinning processes in the busy case (--part threads)"
    )
    parser.add_argument("--repeats", type=int, default=9, help="timings per setting (--part threads)")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads for both libraries (default 1: on a shared machine "
        "multi-threaded small kernels mostly wait on each other; 0 keeps "
        "torch's default)",
    )
    args = parser.parse_args()
    if args.part == "threads":
        args.threads = 0  # the study compares thread settings itself
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch threads: {torch.get_num_threads()}")

    rng = np.random.default_rng(args.seed)
    x = torch.tensor(rng.normal(size=(args.examples, args.genes)), dtype=torch.float32)
    target = torch.as_tensor(rng.integers(0, args.classes, args.examples))
    model = paper_mlp(args.genes, args.classes, args.seed)

    def probability(t):
        return torch.softmax(model(t), dim=1)

    if args.part == "threads":
        threads_study(args, model, x, target)
        return
    captum = IntegratedGradients(probability)
    rows = []
    failures = []
    for steps in args.steps:
        # exprlab: best of 3 (quadrature nodes are cached after the first call; first call shown)
        t_first, _ = timed(lambda: integrated_gradients(model, x, None, target, n_steps=steps))
        t_ours, ours = timed(lambda: integrated_gradients(model, x, None, target, n_steps=steps), repeat=3)
        full = steps <= args.full_captum_steps
        n_captum = args.examples if full else args.captum_subset
        if full:
            # Captum: its default (all rows at once) and a chunked setting; the faster counts
            best = None
            for batch in (None, args.captum_batch):
                t_c, ref = timed(
                    lambda: captum.attribute(
                        x, torch.zeros_like(x), target=target, n_steps=steps, internal_batch_size=batch
                    )
                )
                print(f"  Captum {steps} steps, internal_batch_size={batch}: {t_c:.3f} s", flush=True)
                if best is None or t_c < best[0]:
                    best = (t_c, ref, batch)
            t_captum_all, ref, batch = best
            note = f"Captum internal_batch_size={batch}"
        else:
            # Captum recomputes numpy's Gauss-Legendre nodes (an O(m^3) eigenproblem) in every
            # attribute() call: timed once here and counted once; the integration itself is
            # timed one example at a time (m rows per pass) on a subset and extrapolated
            sizes_fn, alphas_fn = approximation_parameters("gausslegendre")
            t_nodes, nodes = timed(lambda: (sizes_fn(steps), alphas_fn(steps)))
            parts, t_compute = [], 0.0
            for i in range(n_captum):
                t_i, (attr,) = timed(
                    lambda: captum._attribute(
                        (x[i : i + 1],),
                        (torch.zeros_like(x[i : i + 1]),),
                        target=target[i : i + 1],
                        n_steps=steps,
                        step_sizes_and_alphas=nodes,
                    )
                )
                parts.append(attr)
                t_compute += t_i
            ref = torch.cat(parts)
            t_captum_all = t_nodes + t_compute / n_captum * args.examples
            note = (
                f"Captum: nodes {t_nodes:.2f} s once + {t_compute / n_captum:.3f} s per "
                f"example, extrapolated from {n_captum} examples"
            )
            print(f"  Captum {steps} steps: {note}", flush=True)
        note += f"; exprlab first call {t_first:.3f} s"
        diff = rel_diff(ours[:n_captum], ref.double().numpy())
        rows.append(
            (
                f"paper MLP, {steps} steps, exact path",
                t_ours,
                t_captum_all,
                t_captum_all / args.examples * 1e3,
                diff,
                note,
            )
        )
        if diff > args.tolerance:
            failures.append(rows[-1][0])

    conv = conv_first(args.genes, args.classes, args.seed)
    xc = x[: args.conv_examples]
    tc = target[: args.conv_examples]
    batch = args.captum_batch

    def conv_probability(t):
        return torch.softmax(conv(t), dim=1)

    t_ours, ours = timed(
        lambda: integrated_gradients(conv, xc, None, tc, n_steps=args.conv_steps, internal_batch_size=batch),
        repeat=2,
    )
    t_captum, ref = timed(
        lambda: IntegratedGradients(conv_probability).attribute(
            xc, torch.zeros_like(xc), target=tc, n_steps=args.conv_steps, internal_batch_size=batch
        ),
        repeat=2,
    )
    diff = rel_diff(ours, ref.double().numpy())
    rows.append(
        (
            f"Conv1d first, {args.conv_steps} steps, generic path",
            t_ours,
            t_captum,
            t_captum / args.conv_examples * 1e3,
            diff,
            f"{args.conv_examples} examples",
        )
    )
    if diff > args.tolerance:
        failures.append(rows[-1][0])

    print(
        f"\n{args.examples} examples x {args.genes} genes, {args.classes} classes, "
        "Gauss-Legendre, softmax probability of the target"
    )
    header = (
        f"{'case':<42}{'exprlab s':>11}{'Captum s':>11}{'Captum ms/ex':>14}"
        f"{'speed-up':>10}{'max rel diff':>14}  note"
    )
    print(header)
    print("-" * len(header))
    for name, ours_s, captum_s, per_ex, diff, note in rows:
        print(
            f"{name:<42}{ours_s:>11.4f}{captum_s:>11.3f}{per_ex:>14.2f}"
            f"{captum_s / ours_s:>9.1f}x{diff:>14.2e}  {note}"
        )
    if failures:
        raise SystemExit(f"results differ beyond {args.tolerance}: {', '.join(failures)}")


if __name__ == "__main__":
    main()
