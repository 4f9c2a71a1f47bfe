"""legacy-app: a ClientApp built from client_fn and a NumPyClient."""

from __future__ import annotations

import torch
from flwr.client import NumPyClient
from flwr.clientapp import ClientApp
from flwr.common import Context

from legacy_app.task import Net, get_weights, load_partition, set_weights, test, train

torch.set_num_threads(1)


class FlowerClient(NumPyClient):
    def __init__(self, partition_id: int, num_partitions: int, run_config: dict) -> None:
        self.net = Net()
        self.train_data, self.test_data = load_partition(partition_id, num_partitions)
        self.epochs = int(run_config["local-epochs"])
        self.batch = int(run_config["batch-size"])

    def get_parameters(self, config):  # type: ignore[no-untyped-def]
        return get_weights(self.net)

    def fit(self, parameters, config):  # type: ignore[no-untyped-def]
        set_weights(self.net, parameters)
        loss = train(self.net, self.train_data, self.epochs, self.batch, float(config["lr"]))
        return get_weights(self.net), len(self.train_data[1]), {"train_loss": loss}

    def evaluate(self, parameters, config):  # type: ignore[no-untyped-def]
        set_weights(self.net, parameters)
        loss, accuracy = test(self.net, self.test_data)
        return loss, len(self.test_data[1]), {"accuracy": accuracy}


def client_fn(context: Context):  # type: ignore[no-untyped-def]
    node = context.node_config
    client = FlowerClient(
        int(node["partition-id"]), int(node["num-partitions"]), context.run_config
    )
    return client.to_client()


app = ClientApp(client_fn=client_fn)
