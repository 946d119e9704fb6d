/**
 * The run's console output (stdout and stderr captured by the SDK, `/run-logs`): read in
 * pages, then kept growing from the `run-logs chunk` events while the run is connected, and
 * how the process ended (status, exit code). The newest lines matching the filter are shown
 * (at most 2,000 in the page at once, so a long log stays quick); the view keeps to the
 * bottom while it is there, like a terminal.
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api } from '../../api/api-client.js';
import { encodeQuery } from '../../api/query-string.js';
import { subscribe } from '../../api/realtime.js';
import { formatDate } from '../../components/format.js';

export interface ConsoleRecord {
  time: number;
  stream: 'stdout' | 'stderr';
  text: string;
}
interface ConsoleEnd {
  status: string;
  exitCode: number | null;
  time: number;
}
interface ConsoleChunk {
  seq: number;
  records: ConsoleRecord[];
  end?: ConsoleEnd | null;
}
interface ConsolePage {
  chunks: ConsoleChunk[];
  end: ConsoleEnd | null;
  next: number | null;
}

const MOST_SHOWN = 2000;

function clock(time: number): string {
  const date = new Date(time);
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** A run's console chunks by number, read in pages and grown live; `version` bumps on change. */
function useConsoleLog(runId: string) {
  const chunks = useRef(new Map<number, ConsoleRecord[]>());
  const [state, setState] = useState<{ version: number; end: ConsoleEnd | null; loading: boolean; error?: Error }>({
    version: 0,
    end: null,
    loading: true,
  });
  useEffect(() => {
    chunks.current = new Map();
    const controller = new AbortController();
    const take = (chunk: ConsoleChunk) => {
      if (!chunks.current.has(chunk.seq)) chunks.current.set(chunk.seq, chunk.records);
    };
    const subscription = subscribe<ConsoleChunk & { run: string }>('run-logs', 'chunk', (event) => {
      if (event.run !== runId) return;
      take(event);
      setState((current) => ({ ...current, version: current.version + 1, end: event.end ?? current.end }));
    });
    (async () => {
      await subscription.ready;
      let after = -1;
      let end: ConsoleEnd | null = null;
      for (;;) {
        const page = await api.request<ConsolePage>(
          'GET',
          `/run-logs?${encodeQuery({ run: runId, after, limit: 50 })}`,
          undefined,
          controller.signal,
        );
        for (const chunk of page.chunks) take(chunk);
        end = page.end ?? end;
        if (page.next === null) break;
        after = page.next;
      }
      const found = end;
      setState((current) => ({ version: current.version + 1, end: current.end ?? found, loading: false }));
    })().catch((error: Error) => {
      if (!controller.signal.aborted) setState((current) => ({ ...current, loading: false, error }));
    });
    return () => {
      controller.abort();
      subscription.stop();
    };
  }, [runId]);
  const records = useMemo(
    () => [...chunks.current.entries()].sort(([a], [b]) => a - b).flatMap(([, records]) => records),
    [state.version],
  );
  return { ...state, records };
}

export function ConsolePanel({ runId }: { runId: string }) {
  const log = useConsoleLog(runId);
  const [filter, setFilter] = useState('');
  const [streams, setStreams] = useState({ stdout: true, stderr: true });
  const view = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);

  const matching = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    return log.records.filter(
      (record) => streams[record.stream] && (needle === '' || record.text.toLowerCase().includes(needle)),
    );
  }, [log.records, filter, streams.stdout, streams.stderr]);
  const shown = matching.slice(-MOST_SHOWN);

  useLayoutEffect(() => {
    const element = view.current;
    if (element && atBottom.current) element.scrollTop = element.scrollHeight;
  }, [shown.length, log.version]);

  return (
    <section class="console-panel" aria-label="Console output">
      <h2>Console</h2>
      <div class="toolbar">
        <input
          type="search"
          placeholder="Filter lines"
          aria-label="Filter console lines"
          value={filter}
          onInput={(event) => setFilter(event.currentTarget.value)}
        />
        {(['stdout', 'stderr'] as const).map((stream) => (
          <label key={stream}>
            <input
              type="checkbox"
              checked={streams[stream]}
              onChange={(event) => setStreams({ ...streams, [stream]: event.currentTarget.checked })}
            />{' '}
            {stream}
          </label>
        ))}
        <span class="muted">
          {matching.length > shown.length
            ? `the last ${shown.length} of ${matching.length} lines`
            : `${matching.length} line${matching.length === 1 ? '' : 's'}`}
        </span>
      </div>
      {log.error && (
        <p class="problem" role="alert">
          Could not load the console output: {log.error.message}
        </p>
      )}
      {!log.loading && log.records.length === 0 && !log.end && <p class="muted">No console output captured.</p>}
      {log.records.length > 0 && (
        <div
          class="console-log"
          role="log"
          ref={view}
          onScroll={(event) => {
            const element = event.currentTarget;
            atBottom.current = element.scrollHeight - element.scrollTop - element.clientHeight < 24;
          }}
        >
          {shown.map((record, index) => (
            <div key={index} class={`console-line ${record.stream}`}>
              <time dateTime={new Date(record.time).toISOString()}>{clock(record.time)}</time>
              <span class="console-stream">{record.stream === 'stderr' ? 'err' : 'out'}</span>
              <span class="console-text">{record.text}</span>
            </div>
          ))}
        </div>
      )}
      {log.end && (
        <p class="console-end" data-status={log.end.status}>
          Process ended: {log.end.status}
          {log.end.exitCode !== null ? `, exit code ${log.end.exitCode}` : ''} · {formatDate(log.end.time)}
        </p>
      )}
    </section>
  );
}
