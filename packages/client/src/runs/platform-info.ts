/**
 * What a run ran on: OS, Node, host, CPUs, memory, GPUs (through `nvidia-smi` when it is
 * installed) and the versions of the packages the nearest package.json declares.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { arch, cpus, hostname, release, totalmem, type } from 'node:os';
import { dirname, join, parse } from 'node:path';
import { isObject } from './local-json-file.js';

export interface GpuInfo {
  name: string;
  memoryTotal: string;
  driverVersion: string;
}

export interface PlatformInfo {
  os: { type: string; release: string; arch: string };
  node: string;
  hostname: string;
  cpu: { count: number; model: string };
  memoryBytes: number;
  gpus: GpuInfo[];
  /** The nearest package.json and the installed versions of what it declares (declared range when not installed). */
  packages: { manifest: string; versions: Record<string, string> } | null;
}

/**
 * Collects the platform; never throws, a probe that fails leaves its part empty.
 *
 * @example
 * const { node, gpus } = await capturePlatform();
 */
export async function capturePlatform(cwd: string = process.cwd()): Promise<PlatformInfo> {
  const processors = cpus();
  const [gpus, packages] = await Promise.all([probeGpus(), packageVersions(cwd)]);
  return {
    os: { type: type(), release: release(), arch: arch() },
    node: process.version,
    hostname: hostname(),
    cpu: { count: processors.length, model: processors[0]?.model.trim() ?? '' },
    memoryBytes: totalmem(),
    gpus,
    packages,
  };
}

/** Runs a command with a short timeout; its stdout, or `undefined` when it is absent or fails. */
export function runQuietly(command: string, args: string[], cwd?: string, timeout = 2000): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, timeout, windowsHide: true }, (error, stdout) => {
      resolve(error ? undefined : stdout.toString());
    });
  });
}

async function probeGpus(): Promise<GpuInfo[]> {
  const out = await runQuietly('nvidia-smi', ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader']);
  if (!out) return [];
  return out
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [name = '', memoryTotal = '', driverVersion = ''] = line.split(',').map((part) => part.trim());
      return { name, memoryTotal, driverVersion };
    });
}

async function packageVersions(cwd: string): Promise<PlatformInfo['packages']> {
  const manifest = await nearestFile(cwd, 'package.json');
  if (!manifest) return null;
  const declared = await readJson(manifest);
  if (!isObject(declared)) return null;
  const versions: Record<string, string> = {};
  for (const field of ['dependencies', 'devDependencies', 'peerDependencies']) {
    const entries = declared[field];
    if (!isObject(entries)) continue;
    for (const [name, range] of Object.entries(entries)) {
      if (typeof range === 'string') versions[name] ??= range;
    }
  }
  await Promise.all(
    Object.keys(versions).map(async (name) => {
      const installed = await nearestFile(dirname(manifest), join('node_modules', name, 'package.json'));
      const version = installed ? await readJson(installed) : undefined;
      if (isObject(version) && typeof version.version === 'string') versions[name] = version.version;
    }),
  );
  return { manifest, versions };
}

async function nearestFile(start: string, relative: string): Promise<string | undefined> {
  let directory = start;
  const { root } = parse(start);
  for (;;) {
    const candidate = join(directory, relative);
    if ((await readFile(candidate).catch(() => undefined)) !== undefined) return candidate;
    if (directory === root) return undefined;
    directory = dirname(directory);
  }
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
}
