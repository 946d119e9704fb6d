/**
 * The figures an adversarial suite reports (issue 13): attempts, leaks, 5xx answers, inputs
 * wrongly accepted and stored data changed, each finding with the request that showed it.
 * `report` prints them and writes them as JSON under `.vitest-tmp/` for the closing note.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export type FindingKind = 'leak' | '5xx' | 'wrongly accepted' | 'data changed';

export interface Finding {
  kind: FindingKind;
  /** The request (or writes) that showed it, and what was seen. */
  detail: string;
}

export class Figures {
  attempts = 0;
  readonly findings: Finding[] = [];

  constructor(readonly suite: string) {}

  add(kind: FindingKind, detail: string): void {
    this.findings.push({ kind, detail: detail.slice(0, 600) });
  }

  count(kind: FindingKind): number {
    return this.findings.filter((finding) => finding.kind === kind).length;
  }

  summary() {
    return {
      suite: this.suite,
      attempts: this.attempts,
      leaks: this.count('leak'),
      '5xx': this.count('5xx'),
      wronglyAccepted: this.count('wrongly accepted'),
      dataChanged: this.count('data changed'),
    };
  }

  /** Prints the figures and the findings, and writes them to `.vitest-tmp/<suite>.json`. */
  async report(): Promise<void> {
    const summary = this.summary();
    const lines = [
      `${this.suite}: ${summary.attempts} attempts, ${summary.leaks} leaks, ${summary['5xx']} answers of 5xx, ` +
        `${summary.wronglyAccepted} wrongly accepted, ${summary.dataChanged} data changed`,
      ...this.findings.map((finding) => `  ${finding.kind}: ${finding.detail}`),
    ];
    console.log(lines.join('\n'));
    const folder = join(process.cwd(), '.vitest-tmp');
    await mkdir(folder, { recursive: true });
    const file = join(folder, `${this.suite.replace(/[^A-Za-z0-9.-]+/g, '-')}.json`);
    await writeFile(file, `${JSON.stringify({ ...summary, findings: this.findings }, null, 2)}\n`);
  }
}
