"""Training: experiment building, preprocessing, Lightning, MLflow, checkpoints, packaging."""
