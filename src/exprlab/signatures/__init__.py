"""From samples to signatures: fold change, Welch t, characteristic direction, robust z, MODZ consensus, up/down gene sets."""
