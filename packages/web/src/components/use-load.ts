/**
 * Loads something for a page and re-loads when its inputs change; a change or unmount aborts
 * the call in flight, so a slow answer never overwrites a newer one. The call starts as soon
 * as the component is rendered (a layout effect), not after the browser has painted it: a
 * page's requests leave a frame earlier.
 */
import { useLayoutEffect, useState } from 'preact/hooks';

export type Loaded<T> =
  | { state: 'loading'; value?: undefined; error?: undefined }
  | { state: 'ready'; value: T; error?: undefined }
  | { state: 'failed'; value?: undefined; error: Error };

export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, inputs: readonly unknown[]): Loaded<T> {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading' });
  useLayoutEffect(() => {
    const controller = new AbortController();
    // Already loading (the first load): no render for nothing.
    setLoaded((current) => (current.state === 'loading' ? current : { state: 'loading' }));
    load(controller.signal).then(
      (value) => {
        if (!controller.signal.aborted) setLoaded({ state: 'ready', value });
      },
      (error: Error) => {
        if (!controller.signal.aborted) setLoaded({ state: 'failed', error });
      },
    );
    return () => controller.abort();
  }, inputs);
  return loaded;
}
