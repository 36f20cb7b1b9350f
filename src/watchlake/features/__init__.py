"""Window features shared by batch training and streaming prediction."""
