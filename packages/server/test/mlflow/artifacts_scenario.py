"""MLflow's own client against Larder's artifact proxy: log_artifact(s), log_text, log_dict,
log_figure, list_artifacts, download_artifacts, delete, and a multi-MB file through the proxied
multipart upload. Prints one line `ARTIFACTS-RESULT <json>` for the test to check.

Usage: python artifacts_scenario.py <work-dir>  (MLFLOW_TRACKING_URI / _TOKEN in the environment)
"""
import hashlib
import json
import os
import sys

work = sys.argv[1]
# Multipart for anything of 1 MiB or more, in 1 MiB parts: a 5 MiB file goes as 5 parts.
os.environ["MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD"] = "true"
os.environ["MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE"] = str(1024 * 1024)
os.environ["MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE"] = str(1024 * 1024)

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository  # noqa: E402


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def listing(client, run_id, path=None):
    return [[f.path, f.is_dir, f.file_size] for f in client.list_artifacts(run_id, path)]


result = {"version": mlflow.__version__}
client = MlflowClient()
mlflow.set_experiment("artifacts-" + mlflow.__version__)
small = os.path.join(work, "small.txt")
with open(small, "w") as f:
    f.write("hello artifacts\n")
tree = os.path.join(work, "tree")
os.makedirs(os.path.join(tree, "sub"), exist_ok=True)
with open(os.path.join(tree, "a.txt"), "w") as f:
    f.write("a")
with open(os.path.join(tree, "sub", "b.bin"), "wb") as f:
    f.write(bytes(range(256)) * 4)
big = os.path.join(work, "big.bin")
with open(big, "wb") as f:
    f.write(os.urandom(5 * 1024 * 1024 + 123))

with mlflow.start_run() as run:
    run_id = run.info.run_id
    result["artifact_uri"] = run.info.artifact_uri
    mlflow.log_artifact(small)
    mlflow.log_artifacts(tree, artifact_path="nested")
    mlflow.log_text("some text", "notes/hello.txt")
    mlflow.log_dict({"lr": 0.1, "layers": [1, 2]}, "config.json")
    figure, axes = plt.subplots()
    axes.plot([0, 1, 2], [2, 1, 3])
    mlflow.log_figure(figure, "plots/line.png")
    mlflow.log_artifact(big, artifact_path="large")
    # Overwriting a path keeps one file, with the new bytes.
    mlflow.log_text("some other text", "notes/hello.txt")

result["root"] = listing(client, run_id)
result["nested"] = listing(client, run_id, "nested")
result["nested_sub"] = listing(client, run_id, "nested/sub")
result["large"] = listing(client, run_id, "large")

down = os.path.join(work, "down")
os.makedirs(down)
local = mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=down)
result["downloaded_tree_equal"] = sha(os.path.join(local, "nested", "sub", "b.bin")) == sha(
    os.path.join(tree, "sub", "b.bin")
)
result["big_equal"] = sha(os.path.join(local, "large", "big.bin")) == sha(big)
result["text"] = mlflow.artifacts.load_text(f"runs:/{run_id}/notes/hello.txt")
result["dict"] = mlflow.artifacts.load_dict(f"runs:/{run_id}/config.json")
with open(os.path.join(local, "plots", "line.png"), "rb") as f:
    result["png_magic"] = f.read(8).hex()

repo = get_artifact_repository(run.info.artifact_uri)
repo.delete_artifacts("nested")
result["after_delete"] = listing(client, run_id)
result["run_id"] = run_id
result["experiment_id"] = run.info.experiment_id
print("ARTIFACTS-RESULT " + json.dumps(result))
