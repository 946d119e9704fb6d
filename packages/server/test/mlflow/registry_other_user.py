"""Another user's view of the registry scenario's models: nothing of it is visible.
Prints `REGISTRY-OTHER-RESULT <json>` with the error code each call got.

Usage: python registry_other_user.py <model-name> <run-id> [<logged-model-id>]
"""
import json
import sys

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

name, run_id = sys.argv[1], sys.argv[2]
logged_model_id = sys.argv[3] if len(sys.argv) > 3 else None
client = MlflowClient()


def error_code(call):
    try:
        call()
    except MlflowException as error:
        return error.error_code
    except Exception as error:  # an HTTP error of the artifact repository
        return type(error).__name__ + ": " + str(error)[:200]
    return None


result = {
    "get_model": error_code(lambda: client.get_registered_model(name)),
    "get_version": error_code(lambda: client.get_model_version(name, "2")),
    "alias": error_code(lambda: client.get_model_version_by_alias(name, "champion")),
    "search": [m.name for m in client.search_registered_models()],
    "search_versions": len(client.search_model_versions(f"name = '{name}'")),
    "download_run": error_code(lambda: mlflow.artifacts.download_artifacts(run_id=run_id)),
}
if logged_model_id:
    result["get_logged_model"] = error_code(lambda: client.get_logged_model(logged_model_id))
    result["load_logged_model"] = error_code(lambda: mlflow.pyfunc.load_model(f"models:/{logged_model_id}"))
# The other user's names do not block this one: they get a model of their own.
own = client.create_registered_model(name)
result["own_model"] = own.name
# A model of their own; registering the first user's run records the source as MLflow does,
# but copies none of its files (the test reads the version through Larder).
result["register_their_run"] = error_code(lambda: client.create_model_version(name, f"runs:/{run_id}/model", run_id))
result["own_versions"] = len(client.search_model_versions(f"name = '{name}'"))
print("REGISTRY-OTHER-RESULT " + json.dumps(result))
