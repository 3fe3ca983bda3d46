"""Part 2: a 2-layer perceptron on the 3x3 grid of check.csv."""
