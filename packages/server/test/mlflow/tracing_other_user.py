"""Another user's view of the tracing scenario's traces: nothing of it is visible or
changeable. Prints `TRACING-OTHER-RESULT <json>` with the error code each call got.

Usage: python tracing_other_user.py <trace-id> <experiment-id>
"""
import json
import sys

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

trace_id, experiment_id = sys.argv[1], sys.argv[2]
client = MlflowClient()


def error_code(call):
    try:
        call()
    except MlflowException as error:
        return error.error_code
    return None


result = {
    "get_trace": error_code(lambda: client.get_trace(trace_id)),
    "get_missing": error_code(lambda: client.get_trace("tr-" + "0" * 32)),
    "set_tag": error_code(lambda: client.set_trace_tag(trace_id, "intruder", "yes")),
    "delete_tag": error_code(lambda: client.delete_trace_tag(trace_id, "mlflow.traceName")),
    "delete": error_code(lambda: client.delete_traces(experiment_id, trace_ids=[trace_id])),
    "search": error_code(lambda: client.search_traces(locations=[experiment_id])),
    "link": error_code(
        lambda: client.link_traces_to_run([trace_id], client.create_run("0").info.run_id)
    ),
    "own_search": len(mlflow.search_traces(locations=["0"], return_type="list")),
}
print("TRACING-OTHER-RESULT " + json.dumps(result))
