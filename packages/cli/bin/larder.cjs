#!/usr/bin/env node
// The `larder` command. This small file is committed so that npm links the command at
// install time, before the TypeScript build has produced dist/. It is CommonJS on purpose:
// libuv reads UV_THREADPOOL_SIZE once, when its pool first starts, and the ESM loader
// starts it before any module's own code runs; here nothing has used it yet.
'use strict';
const { existsSync } = require('node:fs');
const { availableParallelism } = require('node:os');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');

// `larder serve` spends its pool waiting on the disk (fsyncs, opens, links), not computing:
// more threads than cores keep the disk busy while concurrent uploads each wait on their
// own fsync. The user's own setting wins.
const THREADS_PER_CORE = 4;
const MIN_THREADS = 16;
const MAX_THREADS = 64;
if (!process.env.UV_THREADPOOL_SIZE) {
  const threads = Math.min(MAX_THREADS, Math.max(MIN_THREADS, availableParallelism() * THREADS_PER_CORE));
  process.env.UV_THREADPOOL_SIZE = String(threads);
}

const main = join(__dirname, '..', 'dist', 'main.js');
if (!existsSync(main)) {
  console.error('larder: the CLI is not built yet; run "npm run build" at the repository root first.');
  process.exit(1);
}
import(pathToFileURL(main).href).catch((error) => {
  console.error(error);
  process.exit(1);
});
