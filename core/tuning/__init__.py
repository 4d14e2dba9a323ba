"""Hyper-parameter tuning: Optuna studies over the training engine (seeds 002, 003)."""
