"""MLflow 3 tracing with MLflow's own client: `@mlflow.trace` and `mlflow.start_span` record
traces in an experiment, which `get_trace` and `search_traces` read back with their spans;
trace tags, a filtered search, deleting traces and linking traces to a run. Prints `TRACING-RESULT <json>`.

Usage: python tracing_scenario.py <experiment-name>
"""
import json
import os
import sys

# Export each trace before the call returns, so the reads below see it.
os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"

import mlflow
from mlflow import MlflowClient

experiment_id = mlflow.set_experiment(sys.argv[1]).experiment_id
client = MlflowClient()


@mlflow.trace
def add(a, b):
    return a + b


@mlflow.trace(name="pipeline", attributes={"stage": "demo"})
def pipeline(x):
    with mlflow.start_span(name="double") as span:
        span.set_inputs({"x": x})
        span.set_outputs(x * 2)
    return add(x * 2, 1)


@mlflow.trace
def fails():
    raise ValueError("boom")


outputs = [pipeline(3), pipeline(4)]
first_id = mlflow.get_last_active_trace_id()
try:
    fails()
except ValueError:
    pass
failed_id = mlflow.get_last_active_trace_id()

trace = mlflow.get_trace(first_id)
spans = sorted(trace.data.spans, key=lambda span: span.start_time_ns)
root = spans[0]

found = mlflow.search_traces(locations=[experiment_id], return_type="list")
failed_only = mlflow.search_traces(
    locations=[experiment_id], filter_string="trace.status = 'ERROR'", return_type="list"
)
oldest_first = mlflow.search_traces(
    locations=[experiment_id], order_by=["timestamp_ms ASC"], return_type="list"
)
frame = mlflow.search_traces(locations=[experiment_id])

client.set_trace_tag(first_id, "reviewed", "yes")
tagged = mlflow.search_traces(
    locations=[experiment_id], filter_string="tags.reviewed = 'yes'", return_type="list"
)
client.delete_trace_tag(first_id, "reviewed")
untagged_value = client.get_trace(first_id).info.tags.get("reviewed")
paged = client.search_traces(locations=[experiment_id], max_results=2)

deleted = client.delete_traces(experiment_id, trace_ids=[failed_id])
after_delete = mlflow.search_traces(locations=[experiment_id], return_type="list")

# Traces of a run: recorded inside it, or linked to it afterwards.
with mlflow.start_run() as run:
    pipeline(5)
    in_run_id = mlflow.get_last_active_trace_id()
client.link_traces_to_run([first_id], run.info.run_id)
by_run = mlflow.search_traces(
    locations=[experiment_id], filter_string=f"attribute.run_id = '{run.info.run_id}'", return_type="list"
)

result = {
    "experiment_id": experiment_id,
    "outputs": outputs,
    "trace_id": first_id,
    "state": str(trace.info.state),
    "span_names": [span.name for span in spans],
    "root_inputs": root.inputs,
    "root_outputs": root.outputs,
    "root_attribute": root.get_attribute("stage"),
    "double_inputs": next(span.inputs for span in spans if span.name == "double"),
    "parents_ok": all(span.parent_id == root.span_id for span in spans[1:] if span.name == "double"),
    "execution_ms": trace.info.execution_duration,
    "request_time": trace.info.request_time,
    "found": [t.info.trace_id for t in found],
    "found_span_counts": [len(t.data.spans) for t in found],
    "failed_only": [t.info.trace_id for t in failed_only],
    "failed_id": failed_id,
    "oldest_first": [t.info.trace_id for t in oldest_first],
    "frame_rows": len(frame),
    "tagged": [t.info.trace_id for t in tagged],
    "untagged_value": untagged_value,
    "paged_count": len(paged),
    "paged_token": bool(paged.token),
    "deleted": deleted,
    "after_delete": [t.info.trace_id for t in after_delete],
    "by_run": sorted(t.info.trace_id for t in by_run),
    "expected_by_run": sorted([in_run_id, first_id]),
}
print("TRACING-RESULT " + json.dumps(result))
