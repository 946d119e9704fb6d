/**
 * Runs a Python scenario with MLflow's own client (the interpreters of the venvs `.ci/run`
 * creates: `LARDER_TEST_MLFLOW_PYTHON` for the newest 3.x, `LARDER_TEST_MLFLOW2_PYTHON` for
 * a 2.x) and reads back the one `<MARKER> <json>` line it prints.
 */
import { execFile } from 'node:child_process';

export const MLFLOW_CLIENTS: readonly (readonly [label: string, python: string | undefined])[] = [
  ['3.x', process.env.LARDER_TEST_MLFLOW_PYTHON],
  ['2.x', process.env.LARDER_TEST_MLFLOW2_PYTHON],
];

/** The clients this machine has, as `[label, python]`. */
export function availableMlflowClients(suite: string): [string, string][] {
  const available = MLFLOW_CLIENTS.flatMap(([label, python]): [string, string][] => (python ? [[label, python]] : []));
  if (available.length === 0) {
    console.warn(
      `${suite}: skipped, LARDER_TEST_MLFLOW_PYTHON / LARDER_TEST_MLFLOW2_PYTHON are unset (.ci/run creates the venvs)`,
    );
  }
  return available;
}

export function runMlflowScenario(
  python: string,
  script: string,
  args: string[],
  env: Record<string, string>,
  marker: string,
): Promise<Record<string, any>> {
  return new Promise((resolveResult, reject) => {
    execFile(
      python,
      [script, ...args],
      { timeout: 240_000, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const line = stdout.split('\n').find((each) => each.startsWith(`${marker} `));
        if (error || !line) reject(new Error(`python failed: ${error?.message}\n${stdout}\n${stderr}`));
        else resolveResult(JSON.parse(line.slice(marker.length + 1)));
      },
    );
  });
}
