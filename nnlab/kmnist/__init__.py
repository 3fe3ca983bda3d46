"""Part 1: Japanese character recognition on KMNIST."""
