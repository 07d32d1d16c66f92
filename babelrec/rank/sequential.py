"""A learned next-item model behind `CollaborativeModel`: ``gru4rec``.

GRU4Rec (Hidasi et al., ICLR 2016), in the form later work found strongest on small catalogs: a
one-layer GRU reads the user's items in order (item embeddings, dropout) and its last state
scores every item through the same embeddings (tied weights) plus an item bias, trained with
full-softmax cross-entropy on every next item of every training sequence. Where counting rules
(`item_graphs.SequenceRules`) only see pairs of items a few places apart, the recurrent state
carries the whole recent run of a user's taste, which is what predicts the next film best on
MovieLens (README, "The hybrid first stage").

Training is deterministic for a seed and a thread count, on the CPU; `epochs` is the cost knob
(about linear), and windows are batched by length so short histories cost only their length.
`members` > 1 trains that many networks from seeds `seed`, `seed + 1`, ... and sums their logits
(an ensemble: a single network's ranking moves with its initial weights; the sum moves less).
A user is folded in from their last `max_length` known items.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

from babelrec.rank.collaborative import (
    COLLABORATIVE_MODELS,
    OrderedFit,
    last_occurrences,
)

if TYPE_CHECKING:
    import torch


def _network(items: int, dim: int, dropout: float) -> Any:
    """The GRU, its tied item embeddings (index 0 pads) and item biases. torch is imported
    here, not with the module: importing babelrec should not cost torch's start-up."""
    import torch
    from torch import nn

    class Network(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding = nn.Embedding(items + 1, dim, padding_idx=0)
            self.gru = nn.GRU(dim, dim, batch_first=True)
            self.dropout = nn.Dropout(dropout)
            self.bias = nn.Parameter(torch.zeros(items + 1))

        def states(self, sequences: torch.Tensor) -> torch.Tensor:
            output, _ = self.gru(self.dropout(self.embedding(sequences)))
            states: torch.Tensor = self.dropout(output)
            return states

        def logits(self, states: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = states @ self.embedding.weight.T + self.bias
            return out

    return Network()


def _windows(sequences: Sequence[Sequence[int]], length: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and next-item targets, left-padded with 0, `length` steps each: a long sequence
    is cut into windows from its end, so every next item is a target exactly once."""
    inputs: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    for sequence in sequences:
        end = len(sequence)
        while end > 1:
            start = max(0, end - length - 1)
            chunk = sequence[start:end]
            x = np.zeros(length, dtype=np.int64)
            y = np.zeros(length, dtype=np.int64)
            x[length - len(chunk) + 1 :] = chunk[:-1]
            y[length - len(chunk) + 1 :] = chunk[1:]
            inputs.append(x)
            targets.append(y)
            end = start + 1 if start > 0 else 0
    if not inputs:
        return np.zeros((0, length), dtype=np.int64), np.zeros((0, length), dtype=np.int64)
    return np.stack(inputs), np.stack(targets)


def _batches(inputs: torch.Tensor, size: int, generator: torch.Generator) -> list[torch.Tensor]:
    """Row indices of `inputs` in batches of windows of about the same length, in a random
    order: a batch is cut to its longest window, so short histories (most users of a large log)
    cost their length, not `max_length`, and train as they are scored, without padding."""
    import torch

    lengths = (inputs > 0).sum(dim=1)
    shuffled = torch.randperm(len(inputs), generator=generator)
    by_length = shuffled[torch.argsort(lengths[shuffled], stable=True)]
    batches = list(torch.split(by_length, size))
    order = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i] for i in order]


def _train(
    network: Any,
    x: torch.Tensor,
    y: torch.Tensor,
    params: dict[str, Any],
    generator: torch.Generator,
) -> None:
    """`params["epochs"]` passes of Adam over the windows, full-softmax cross-entropy on every
    next item."""
    import torch

    optimiser = torch.optim.Adam(network.parameters(), lr=float(params["learning_rate"]))
    network.train()
    for _ in range(int(params["epochs"])):
        for rows in _batches(x, int(params["batch_size"]), generator):
            inputs, targets = x[rows], y[rows]
            width = int((inputs > 0).sum(dim=1).max())  # left padding all rows share
            inputs, targets = inputs[:, -width:], targets[:, -width:]
            mask = targets > 0
            states = network.states(inputs)[mask]
            loss = torch.nn.functional.cross_entropy(network.logits(states), targets[mask])
            optimiser.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            optimiser.step()


class GRU4Rec(OrderedFit):
    """A GRU next-item model (see the module docstring)."""

    name = "gru4rec"

    def __init__(
        self,
        dim: int = 64,
        epochs: int = 30,
        max_length: int = 50,
        batch_size: int = 64,
        learning_rate: float = 3e-3,
        dropout: float = 0.2,
        seed: int = 0,
        members: int = 1,
    ) -> None:
        if members < 1:
            raise ValueError(f"gru4rec: members must be at least 1, got {members}")
        super().__init__(
            dim=dim,
            epochs=epochs,
            max_length=max_length,
            batch_size=batch_size,
            learning_rate=learning_rate,
            dropout=dropout,
            seed=seed,
            members=members,
        )
        self.networks: list[Any] = []

    def _fit(self, matrix: sparse.csr_matrix, threads: int) -> None:
        import torch

        p = self.params
        previous_threads = torch.get_num_threads()
        torch.set_num_threads(max(1, threads))
        try:
            sequences = [[self.item_index[i] + 1 for i in h] for h in self._ordered]
            x, y = (torch.from_numpy(a) for a in _windows(sequences, int(p["max_length"])))
            networks = []
            for member in range(int(p.get("members", 1))):
                seed = int(p["seed"]) + member
                generator = torch.Generator().manual_seed(seed)
                torch.manual_seed(seed)
                network = _network(len(self.item_ids), int(p["dim"]), float(p["dropout"]))
                if len(x):
                    _train(network, x, y, p, generator)
                else:  # no user took two items: nothing to learn, so no signal (all 0)
                    with torch.no_grad():
                        for parameter in network.parameters():
                            parameter.zero_()
                network.eval()
                networks.append(network)
            self.networks = networks
        finally:
            torch.set_num_threads(previous_threads)

    def score(self, history: Sequence[str], item_ids: Sequence[str]) -> np.ndarray:
        """Scores of `item_ids` from the user's last `max_length` known items, in order."""
        if not self.networks:
            return super().score(history, item_ids)  # raises: not fitted
        import torch

        known = [self.item_index[i] + 1 for i in last_occurrences(history) if i in self.item_index]
        out = np.zeros(len(item_ids), dtype=np.float32)
        positions = [p for p, i in enumerate(item_ids) if i in self.item_index]
        if not known or not positions:
            return out
        sequence = torch.tensor([known[-int(self.params["max_length"]) :]])
        with torch.no_grad():
            logits = sum(n.logits(n.states(sequence)[0, -1]).numpy() for n in self.networks)
        out[positions] = logits[[self.item_index[item_ids[p]] + 1 for p in positions]]
        return out

    def _score(self, known: np.ndarray, targets: np.ndarray) -> np.ndarray:
        raise NotImplementedError  # `score` is overridden: the order of the history matters

    def _arrays(self) -> dict[str, np.ndarray]:
        assert self.networks, "fit() first"
        return {
            f"{_member_prefix(m)}{k}": v.numpy()
            for m, network in enumerate(self.networks)
            for k, v in network.state_dict().items()
        }

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        import torch

        networks = []
        for member in range(int(self.params.get("members", 1))):
            prefix = _member_prefix(member)
            network = _network(len(self.item_ids), int(self.params["dim"]), 0.0)
            state: dict[str, Any] = {
                k.removeprefix(prefix): torch.from_numpy(v)
                for k, v in arrays.items()
                if k.startswith(prefix)
            }
            network.load_state_dict(state)
            network.eval()
            networks.append(network)
        self.networks = networks


def _member_prefix(member: int) -> str:
    """Saved-array prefix of ensemble member `member` ("net." for the first, as saved models
    of one network have it)."""
    return "net." if member == 0 else f"net{member}."


COLLABORATIVE_MODELS[GRU4Rec.name] = GRU4Rec
