"""legacy-app: a Flower app in the NumPyClient style."""
