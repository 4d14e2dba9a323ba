"""MLflow searches by user-chosen names against a real MLflow SQLite store: every quote
and backslash finds exactly its own entries."""

from __future__ import annotations

import pytest

from core.mlflow_filter import equals, filter_literal, model_versions, model_versions_of_run

NAMES = [
    "it's_model",
    'say "hi"_model',
    "both ' and \"_model",
    "back\\slash_model",
    "ends with\\",
    "x' OR name LIKE '%",
    "a%b_c",
    "ünï çødé",
]


def test_literal_uses_the_quote_the_value_lacks():
    assert filter_literal("it's") == '"it\'s"'
    assert filter_literal('say "hi"') == "'say \"hi\"'"
    assert filter_literal("both ' \"") is None
    assert filter_literal("a\\b") is None
    assert equals("name", "plain") == 'name = "plain"'


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path_factory.mktemp('registry') / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.create_experiment("it's")
    runs = {}
    for name in NAMES:
        client.create_registered_model(name)
        run = client.create_run(experiment)
        runs[name] = run.info.run_id
        for _ in range(2):
            client.create_model_version(name, "file:///nowhere", run_id=run.info.run_id)
    client.create_registered_model("a_b_c")  # what a LIKE-style match of "a%b_c" would find
    client.create_model_version("a_b_c", "file:///nowhere")
    return client, runs


@pytest.mark.parametrize("name", NAMES)
def test_versions_of_each_name_are_exactly_its_own(registry, name):
    client, runs = registry
    versions = model_versions(client, name)
    assert sorted(int(v.version) for v in versions) == [1, 2]
    assert {v.name for v in versions} == {name}
    assert {v.run_id for v in versions} == {runs[name]}


def test_versions_of_a_run(registry):
    client, runs = registry
    for name, run_id in runs.items():
        assert {v.name for v in model_versions_of_run(client, run_id)} == {name}


def test_unknown_name_has_no_versions(registry):
    client, _runs = registry
    assert model_versions(client, "nobody's") == []
    assert model_versions(client, 'nobody\'s "model"') == []
