"""The shared evaluation helpers: the classifier head, the reference model, seeds."""

from __future__ import annotations

import torch

from flchain.learning.models import build_model
from flchain.task.evaluation import classifier_head, derive_seed


def test_the_head_is_the_output_layer_of_each_built_in_model() -> None:
    assert classifier_head(build_model("digits-mlp", seed=0)) == ("net.2.bias", "net.2.weight")
    assert classifier_head(build_model("mnist1d-cnn", seed=0)) == ("linear.bias", "linear.weight")


class _Counter(torch.nn.Module):
    """A layer with nothing but an integer buffer."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("count", torch.tensor(0))


def test_integer_buffers_after_the_output_layer_do_not_hide_it() -> None:
    model = torch.nn.Sequential(
        torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3), _Counter()
    )
    assert list(model.state_dict())[-1] == "3.count"
    assert classifier_head(model) == ("2.bias", "2.weight")


def test_seeds_are_stable_31_bit_values() -> None:
    assert derive_seed(0, "reference", 1, 2) == derive_seed(0, "reference", 1, 2)
    assert derive_seed(0, "reference", 1, 2) != derive_seed(0, "reference", 2, 1)
    assert 0 <= derive_seed("x") < 2**31
