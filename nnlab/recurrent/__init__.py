"""Part 3: hidden-unit dynamics of recurrent networks on formal languages."""
