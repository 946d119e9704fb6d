"""MLflow's own client against Larder's model registry: autolog with scikit-learn logs a model,
pyfunc loads it back and predicts the same, it is registered twice, an alias moves and
`models:/name@alias` loads; registered models and versions are searched, tagged, described,
renamed, staged and deleted; on MLflow 3, logged models are created, tagged, finalized,
searched and deleted. Prints one line `REGISTRY-RESULT <json>`.

Usage: python registry_scenario.py <model-name>  (MLFLOW_TRACKING_URI / _TOKEN in the environment)
"""
import json
import sys

import mlflow
import numpy as np
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

name = sys.argv[1]
major = int(mlflow.__version__.split(".")[0])
client = MlflowClient()
result = {"version": mlflow.__version__}


def error_code(call):
    try:
        call()
    except MlflowException as error:
        return error.error_code
    return None


mlflow.set_experiment(f"registry-{mlflow.__version__}")
X, y = load_iris(return_X_y=True)
mlflow.sklearn.autolog()
with mlflow.start_run() as run:
    model = LogisticRegression(max_iter=300).fit(X, y)
mlflow.sklearn.autolog(disable=True)
expected = model.predict(X).tolist()
run_id = run.info.run_id
experiment_id = run.info.experiment_id
result["run_params"] = sorted(client.get_run(run_id).data.params)[:3]

if major >= 3:
    logged = mlflow.last_active_run() and mlflow.search_logged_models(
        experiment_ids=[experiment_id], output_format="list"
    )
    model_uri = f"models:/{logged[0].model_id}"
    result["logged_model_status"] = str(logged[0].status)
    result["logged_model_source_run"] = logged[0].source_run_id == run_id
else:
    model_uri = f"runs:/{run_id}/model"
loaded = mlflow.pyfunc.load_model(model_uri)
result["pyfunc_same"] = np.asarray(loaded.predict(X)).tolist() == expected

first = mlflow.register_model(model_uri, name)
second = mlflow.register_model(model_uri, name)
result["registered_versions"] = [first.version, second.version]
if major >= 3:
    result["logged_model_versions"] = json.loads(
        client.get_logged_model(logged[0].model_id).tags.get("mlflow.modelVersions", "[]")
    )
result["version_status"] = client.get_model_version(name, first.version).status
result["version_run"] = client.get_model_version(name, first.version).run_id == run_id

client.set_registered_model_alias(name, "champion", first.version)
by_alias = mlflow.pyfunc.load_model(f"models:/{name}@champion")
result["alias_load_same"] = np.asarray(by_alias.predict(X)).tolist() == expected
client.set_registered_model_alias(name, "champion", second.version)
result["alias_moved_to"] = client.get_model_version_by_alias(name, "champion").version
result["model_aliases"] = client.get_registered_model(name).aliases
by_version = mlflow.sklearn.load_model(f"models:/{name}/{first.version}")
result["version_load_same"] = by_version.predict(X).tolist() == expected

client.set_registered_model_tag(name, "team", "vision")
client.set_registered_model_tag(name, "task", "iris")
client.delete_registered_model_tag(name, "task")
client.update_registered_model(name, description="iris classifier")
client.set_model_version_tag(name, first.version, "validated", "yes")
client.update_model_version(name, first.version, description="first one")
registered = client.get_registered_model(name)
result["model_tags"] = registered.tags
result["model_description"] = registered.description
version_one = client.get_model_version(name, first.version)
result["version_tags"] = version_one.tags
result["version_description"] = version_one.description

result["search_like"] = [m.name for m in client.search_registered_models(filter_string=f"name LIKE '{name[:4]}%'")]
result["search_tag"] = [m.name for m in client.search_registered_models(filter_string="tags.team = 'vision'")]
result["search_none"] = [m.name for m in client.search_registered_models(filter_string="name = 'no-such-model'")]
result["search_versions"] = sorted(
    v.version for v in client.search_model_versions(filter_string=f"name = '{name}'")
)
result["search_versions_by_run"] = len(client.search_model_versions(filter_string=f"run_id = '{run_id}'"))
result["search_versions_by_tag"] = [
    v.version for v in client.search_model_versions(filter_string=f"name = '{name}' AND tags.validated = 'yes'")
]
result["all_models"] = [m.name for m in client.search_registered_models()]
client.create_registered_model(f"{name}-b")
first_page = client.search_registered_models(max_results=1, order_by=["name DESC"])
second_page = client.search_registered_models(max_results=1, order_by=["name DESC"], page_token=first_page.token)
result["paged"] = [
    [m.name for m in first_page],
    bool(first_page.token),
    [m.name for m in second_page],
    bool(second_page.token),
]
client.delete_registered_model(f"{name}-b")

client.transition_model_version_stage(name, first.version, "Staging")
client.transition_model_version_stage(name, second.version, "Staging", archive_existing_versions=True)
result["stages"] = [client.get_model_version(name, v).current_stage for v in (first.version, second.version)]
result["latest_staging"] = [v.version for v in client.get_latest_versions(name, stages=["Staging"])]
result["download_uri"] = client.get_model_version_download_uri(name, first.version)
result["bad_stage"] = error_code(lambda: client.transition_model_version_stage(name, first.version, "Nowhere"))
result["missing_model"] = error_code(lambda: client.get_registered_model("no-such-model"))
result["missing_version"] = error_code(lambda: client.get_model_version(name, "99"))
result["create_twice"] = error_code(lambda: client.create_registered_model(name))

renamed = f"{name}-renamed"
client.rename_registered_model(name, renamed)
result["renamed_versions"] = sorted(v.version for v in client.search_model_versions(f"name = '{renamed}'"))
client.delete_registered_model_alias(renamed, "champion")
result["alias_after_delete"] = client.get_registered_model(renamed).aliases
client.delete_model_version(renamed, first.version)
result["after_version_delete"] = sorted(v.version for v in client.search_model_versions(f"name = '{renamed}'"))
client.rename_registered_model(renamed, name)

if major >= 3:
    from mlflow.entities import LoggedModelStatus

    created = client.create_logged_model(
        experiment_id, name="hand-made", tags={"kind": "manual"}, params={"alpha": "0.5"}
    )
    result["lm_pending"] = str(created.status)
    client.set_logged_model_tags(created.model_id, {"stage": "dev", "kind": "manual-2"})
    client.delete_logged_model_tag(created.model_id, "stage")
    client.log_model_params(created.model_id, {"beta": "2"})
    client.finalize_logged_model(created.model_id, LoggedModelStatus.READY)
    fetched = client.get_logged_model(created.model_id)
    result["lm_fetched"] = {
        "name": fetched.name,
        "status": str(fetched.status),
        "tags": {k: v for k, v in fetched.tags.items() if not k.startswith("mlflow.")},
        "params": fetched.params,
        "artifact_location": fetched.artifact_location,
    }
    found = client.search_logged_models(experiment_ids=[experiment_id], filter_string="name = 'hand-made'")
    result["lm_search"] = [m.model_id == created.model_id for m in found]
    client.delete_logged_model(created.model_id)
    result["lm_deleted"] = error_code(lambda: client.get_logged_model(created.model_id))
    result["lm_id"] = logged[0].model_id

result["run_id"] = run_id
result["experiment_id"] = experiment_id
print("REGISTRY-RESULT " + json.dumps(result, default=str))
