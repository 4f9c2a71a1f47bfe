"""legacy-app: a legacy ServerApp (FedAvg over fit/evaluate), for Flower's own simulation."""

from __future__ import annotations

import torch
from flwr.common import Context, ndarrays_to_parameters
from flwr.server import ServerApp, ServerAppComponents, ServerConfig
from flwr.server.strategy import FedAvg

from legacy_app.task import Net, get_weights


def server_fn(context: Context) -> ServerAppComponents:
    torch.manual_seed(0)
    strategy = FedAvg(
        initial_parameters=ndarrays_to_parameters(get_weights(Net())),
        on_fit_config_fn=lambda server_round: {"lr": 0.003},
    )
    rounds = int(context.run_config["num-server-rounds"])
    return ServerAppComponents(strategy=strategy, config=ServerConfig(num_rounds=rounds))


app = ServerApp(server_fn=server_fn)
