"""mnist1d-app: a Flower app."""
