"""Batched inference of torch surrogates on the CPU: small batches, one intra-op thread per worker.

Ranking millions of candidates is a long run of small forward passes. Two measurements on the
shared 2-core test machine (8×8 grid CNN, 200 000 designs) shape this module:

* batches of about 2**16 grid cells (1 024 8×8 designs) ran 2–4× faster than batches of 16 384
  designs: the activations stay in cache and no large buffers are mapped and unmapped per batch;
* two OpenMP threads inside each operator ran 4–25× *slower* than one thread whenever another
  process held a core (every operator ends in a barrier that waits for the descheduled thread).

So on the CPU the batches are shared among ``torch.get_num_threads()`` Python worker threads,
each running its batches with one intra-op thread (torch releases the GIL inside operators).
Every batch is computed exactly as in a sequential loop, and results keep the input order.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import torch

from fem.spmm import torch_threads

__all__ = ["batched_inference"]


def _run(fn: Callable[[torch.Tensor], torch.Tensor], batches: list[torch.Tensor], device: torch.device) -> list[torch.Tensor]:
    # inference mode is thread-local: enter it in each worker
    with torch.inference_mode():
        return [fn(b.to(device)).detach().to("cpu", torch.float64) for b in batches]


def batched_inference(
    fn: Callable[[torch.Tensor], torch.Tensor],
    inputs: torch.Tensor,
    batch_size: int,
    device: torch.device | str = "cpu",
    workers: int | None = None,
) -> torch.Tensor:
    """Evaluate ``fn`` on ``inputs`` in batches along the first axis, without autograd.

    Parameters
    ----------
    fn : callable
        Maps a batch (on ``device``) to an output tensor with the batch as first axis.
    inputs : torch.Tensor, shape (n, ...)
        Inputs (any device); each batch is moved to ``device``.
    batch_size : int
        Rows per batch (>= 1).
    device : torch.device or str
        Where ``fn`` runs. Worker threads are used on the CPU only.
    workers : int, optional
        CPU worker threads; default ``torch.get_num_threads()``. With one worker (or one batch)
        the batches run in the calling thread with torch's thread setting untouched.

    Returns
    -------
    torch.Tensor of float64 on the CPU, shape (n, ...)
    """
    batch_size = int(batch_size)
    if batch_size < 1:
        raise ValueError(f"predict_batch_size must be a positive integer; got {batch_size}")
    device = torch.device(device)
    batches = list(torch.split(inputs, batch_size)) or [inputs]
    n_workers = min(int(workers) if workers is not None else torch.get_num_threads(), len(batches))
    if device.type != "cpu" or n_workers <= 1:
        return torch.cat(_run(fn, batches, device))
    chunks = [batches[i::n_workers] for i in range(n_workers)]  # round robin: equal work per worker
    with torch_threads(1), ThreadPoolExecutor(n_workers, thread_name_prefix="matloop-infer") as pool:
        parts = list(pool.map(lambda chunk: _run(fn, chunk, device), chunks))
    ordered = [parts[i % n_workers][i // n_workers] for i in range(len(batches))]
    return torch.cat(ordered)
