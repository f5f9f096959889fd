"""The digits FedAvg Flower app: plaintext, SecAgg+ or hekit threshold-CKKS aggregation (see README.md)."""
