"""MLflow's own Python client against Larder's MLflow face, for mlflow-tracking.test.ts.

Usage: tracking_scenario.py <mode> <argument>, with MLFLOW_TRACKING_URI and the client's
credentials (MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and _PASSWORD) in the
environment. Prints one line `MLFLOW-RESULT <json>` with what each step saw; the test
asserts on it. Modes:
  probe                 exits 0 when mlflow imports
  main <tag>            experiments, runs, params, metrics, batches, tags, datasets, search
  intruder <json>       another user's view of main's ids: nothing is visible
  reader <run id>       a run written through Larder's own API, read by MLflow
"""

import json
import os
import sys
import threading

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag, ViewType
from mlflow.exceptions import MlflowException


def error_code(call):
    try:
        call()
    except MlflowException as error:
        return error.error_code
    return None


def rest(path, params):
    """A GET to the REST API with the client's credentials (for endpoints the fluent API hides)."""
    import requests

    token = os.environ.get("MLFLOW_TRACKING_TOKEN")
    auth = None if token else (os.environ["MLFLOW_TRACKING_USERNAME"], os.environ["MLFLOW_TRACKING_PASSWORD"])
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = requests.get(os.environ["MLFLOW_TRACKING_URI"] + path, params=params, headers=headers, auth=auth, timeout=30)
    return response.status_code, response.json()


def main(tag):
    client = MlflowClient()
    out = {"version": mlflow.__version__}

    experiment = mlflow.set_experiment(f"exp-{tag}")
    out["experiment_id"] = experiment.experiment_id
    out["experiment_name"] = experiment.name

    with mlflow.start_run(run_name="r1") as run:
        mlflow.log_param("lr", 0.1)
        mlflow.log_params({"opt": "adam", "layers.depth": 3})
        for step in range(10):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
            mlflow.log_metric("val/acc", step / 10, step=step)
        mlflow.log_metrics({"final.score": 0.75})
        mlflow.set_tag("team", "vision")
        mlflow.set_tags({"stage": "dev", "to-delete": "x"})
        r1 = run.info.run_id
    with mlflow.start_run(run_name="r2") as run:
        mlflow.log_params({"opt": "sgd", "lr": "0.01"})
        mlflow.log_metric("loss", 3.0)
        mlflow.set_tag("team", "nlp")
        r2 = run.info.run_id
        mlflow.end_run("FAILED")
    r3 = client.create_run(experiment.experiment_id, run_name="r3", tags={"team": "vision"}).info.run_id
    client.log_batch(
        r3,
        metrics=[Metric("loss", 2.0 - i / 100, 1_700_000_000_000 + i, i) for i in range(100)],
        params=[Param("opt", "rmsprop"), Param("batch", "32")],
        tags=[RunTag("kind", "batch")],
    )
    client.set_terminated(r3, "KILLED")
    out["runs"] = {"r1": r1, "r2": r2, "r3": r3}

    got = client.get_run(r1)
    out["r1"] = {
        "status": got.info.status,
        "run_name": got.info.run_name,
        "lifecycle_stage": got.info.lifecycle_stage,
        "experiment_id": got.info.experiment_id,
        "params": got.data.params,
        "metrics": got.data.metrics,
        "tags": {k: v for k, v in got.data.tags.items() if k in ("team", "stage", "to-delete", "mlflow.runName")},
        "start_before_end": got.info.start_time <= got.info.end_time,
    }
    out["r2_status"] = client.get_run(r2).info.status
    out["r3_status"] = client.get_run(r3).info.status
    out["history"] = [[m.step, m.value] for m in client.get_metric_history(r1, "loss")]
    out["history_r3"] = len(client.get_metric_history(r3, "loss"))

    # Tags and params: delete a tag; a changed param is refused, the same value is not.
    client.delete_tag(r1, "to-delete")
    out["tag_deleted"] = "to-delete" not in client.get_run(r1).data.tags
    out["param_change"] = error_code(lambda: client.log_param(r1, "opt", "sgd"))
    out["param_same"] = error_code(lambda: client.log_param(r1, "opt", "adam"))
    out["missing_run"] = error_code(lambda: client.get_run("0123456789abcdef"))

    # Two threads at once on one series: every point lands.
    def log_many(offset):
        for i in range(25):
            client.log_metric(r3, "concurrent", float(offset + i), step=offset + i)

    threads = [threading.Thread(target=log_many, args=(offset * 100,)) for offset in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out["concurrent"] = sorted(m.step for m in client.get_metric_history(r3, "concurrent"))

    # Datasets become lineage inputs and are searchable.
    import pandas

    frame = pandas.DataFrame({"x": [1, 2, 3], "y": [0, 1, 0]})
    with mlflow.start_run(run_id=r1):
        mlflow.log_input(mlflow.data.from_pandas(frame, name=f"iris-{tag}"), context="training")
    inputs = client.get_run(r1).inputs.dataset_inputs
    out["dataset"] = {
        "name": inputs[0].dataset.name,
        "digest": inputs[0].dataset.digest,
        "context": [t.value for t in inputs[0].tags if t.key == "mlflow.data.context"],
    }

    def names(filter_string, order_by=None, **kwargs):
        found = client.search_runs(
            [experiment.experiment_id], filter_string=filter_string, order_by=order_by or ["attributes.run_name ASC"], **kwargs
        )
        return [r.info.run_name for r in found]

    out["search"] = {
        "loss_lt": names("metrics.loss < 0.5"),
        "param_eq": names("params.opt = 'adam'"),
        "tag_ne": names("tags.team != 'nlp'"),
        "or": names("tags.team = 'nlp' OR params.opt = 'rmsprop'"),
        "parens": names("(params.opt = 'adam' OR params.opt = 'sgd') AND metrics.loss > 0.5"),
        "status": names("attributes.status = 'FAILED'"),
        "like": names("attributes.run_name LIKE 'r%' AND params.opt ILIKE 'RMS%'"),
        "run_id_in": names(f"attributes.run_id IN ('{r1}', '{r3}')"),
        "dataset": names(f"datasets.name = 'iris-{tag}' AND datasets.context = 'training'"),
        "metric_key_with_slash": names("metrics.`val/acc` >= 0.9"),
        "order_loss": names("", order_by=["metrics.loss DESC"]),
        "order_start": names("", order_by=["attributes.start_time ASC"]),
        "bad_filter": error_code(lambda: names("params.opt = adam")),
        "bad_comparator": error_code(lambda: names("metrics.loss LIKE '%'")),
    }
    pages, token = [], None
    while True:
        page = client.search_runs([experiment.experiment_id], order_by=["attributes.run_name ASC"], max_results=1, page_token=token)
        pages.append([r.info.run_name for r in page])
        token = page.token
        if not token:
            break
    out["pages"] = pages
    out["fluent_search_rows"] = len(mlflow.search_runs(filter_string="metrics.loss < 10"))

    status, body = rest(
        "/api/2.0/mlflow/metrics/get-history-bulk-interval",
        {"run_ids": [r1, r3], "metric_key": "loss", "max_results": 5},
    )
    out["bulk_interval"] = {"status": status, "runs": sorted({m["run_id"] for m in body["metrics"]}), "count": len(body["metrics"])}

    # Experiments: tags, duplicates, deletion and restore, search.
    eid = client.create_experiment(f"other-{tag}", tags={"purpose": "test"})
    client.set_experiment_tag(eid, "owner", "ada")
    got = client.get_experiment(eid)
    out["experiment"] = {"name": got.name, "tags": got.tags, "stage": got.lifecycle_stage}
    out["by_name"] = client.get_experiment_by_name(f"other-{tag}").experiment_id == eid
    out["no_such_name"] = client.get_experiment_by_name(f"none-{tag}") is None
    out["duplicate"] = error_code(lambda: client.create_experiment(f"other-{tag}"))
    found = client.search_experiments(filter_string=f"name LIKE '%-{tag}'", order_by=["name ASC"])
    out["experiments_like"] = [e.name for e in found]
    out["experiments_tag"] = [e.name for e in client.search_experiments(filter_string="tags.owner = 'ada'")]
    client.delete_experiment(eid)
    out["deleted_stage"] = client.get_experiment(eid).lifecycle_stage
    out["deleted_hidden"] = eid not in [e.experiment_id for e in client.search_experiments()]
    out["deleted_listed"] = eid in [e.experiment_id for e in client.search_experiments(view_type=ViewType.DELETED_ONLY)]
    client.restore_experiment(eid)
    out["restored_stage"] = client.get_experiment(eid).lifecycle_stage
    moved = client.create_run(eid, run_name="moved").info.run_id
    client.rename_experiment(eid, f"renamed-{tag}")
    out["renamed"] = {
        "name": client.get_experiment(eid).name,
        "by_new_name": client.get_experiment_by_name(f"renamed-{tag}").experiment_id == eid,
        "old_name_gone": client.get_experiment_by_name(f"other-{tag}") is None,
        "run_experiment": client.get_run(moved).info.experiment_id == eid,
        "searched": [r.info.run_name for r in client.search_runs([eid])],
        "tags": client.get_experiment(eid).tags,
    }

    # Runs: soft deletion.
    client.delete_run(r2)
    out["run_deleted"] = client.get_run(r2).info.lifecycle_stage
    out["deleted_run_hidden"] = "r2" not in names("")
    out["deleted_run_listed"] = "r2" in names("", run_view_type=ViewType.DELETED_ONLY)
    client.restore_run(r2)
    out["run_restored"] = client.get_run(r2).info.lifecycle_stage

    default = client.get_experiment("0")
    out["default_experiment"] = default.name
    print("MLFLOW-RESULT " + json.dumps(out))


def intruder(argument):
    theirs = json.loads(argument)
    client = MlflowClient()
    out = {
        "get_run": error_code(lambda: client.get_run(theirs["run"])),
        "get_experiment": error_code(lambda: client.get_experiment(theirs["experiment"])),
        "search_their_experiment": len(client.search_runs([theirs["experiment"]])),
        "log_to_their_run": error_code(lambda: client.log_metric(theirs["run"], "x", 1.0)),
        "their_experiment_by_name": client.get_experiment_by_name(theirs["experiment_name"]),
    }
    mine = client.create_run("0", run_name="mine").info.run_id
    client.log_metric(mine, "loss", 1.0)
    found = client.search_runs(["0"])
    out["own_runs"] = [r.info.run_name for r in found]
    out["their_names"] = [e.name for e in client.search_experiments() if e.name == theirs["experiment_name"]]
    out["their_experiment_by_name"] = out["their_experiment_by_name"] is not None
    print("MLFLOW-RESULT " + json.dumps(out))


def reader(run_id):
    client = MlflowClient()
    run = client.get_run(run_id)
    out = {
        "name": run.info.run_name,
        "status": run.info.status,
        "params": run.data.params,
        "metrics": run.data.metrics,
        "history": [[m.step, m.value] for m in client.get_metric_history(run_id, "train/loss")],
        "found": [r.info.run_id for r in client.search_runs([run.info.experiment_id], "metrics.`train/loss` < 0.5")],
    }
    print("MLFLOW-RESULT " + json.dumps(out))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "probe":
        sys.exit(0)
    {"main": main, "intruder": intruder, "reader": reader}[mode](sys.argv[2])
