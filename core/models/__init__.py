"""The model registry seen from the cockpit: registered models and their versions
(``catalog``), a local MLflow UI server for the workspace (``mlflow_server``) and
predictions with a registered version (``predict``). mlflow is imported lazily."""
