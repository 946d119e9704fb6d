import { describe, expect, it } from 'vitest';
import { formatTable } from './table.js';

describe('formatTable', () => {
  it('aligns columns to their content', () => {
    expect(
      formatTable(
        ['A', 'BB'],
        [
          ['xyz', '1'],
          ['q', '22'],
        ],
        80,
      ),
    ).toBe('A    BB\nxyz  1\nq    22');
  });

  it('cuts the widest column with an ellipsis to fit the width', () => {
    const table = formatTable(['NAME', 'FOLDER'], [['short', '/a/very/long/folder/path/that/does/not/fit']], 30);
    for (const line of table.split('\n')) expect(line.length).toBeLessThanOrEqual(30);
    expect(table).toContain('…');
    expect(table).toContain('short');
  });

  it('never cuts an ID column, whatever the width', () => {
    const id = '01JH7Q8ZK3M4N5P6Q7R8S9T0VW';
    const table = formatTable(
      ['ID', 'NAME', 'FOLDER'],
      [[id, 'a-rather-long-run-name', '/ada@example.org/cv/mnist']],
      40,
    );
    expect(table.split('\n')[1]?.startsWith(`${id}  `)).toBe(true);
    expect(table).toContain('…');
  });
});
