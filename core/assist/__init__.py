"""Model-assisted labeling: a registered model's suggestions for a theme's images
(``suggest``), accepting them with ``labeled_by`` naming the model (``accept``), and a
label-issue finder that ranks suspected label errors, duplicates and outliers (``issues``).
Both runs are MLflow runs and queue job kinds (``jobs``)."""
