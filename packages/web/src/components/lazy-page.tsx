/**
 * A page loaded as its own chunk on first visit, so the first screen downloads only what it
 * shows.
 */
import type { ComponentType } from 'preact';
import { Loading, Problem } from './problem.js';
import { useLoad } from './use-load.js';

export function lazyPage<P extends object>(load: () => Promise<ComponentType<P>>): ComponentType<P> {
  let component: Promise<ComponentType<P>> | undefined;
  return function LazyPage(props: P) {
    const loaded = useLoad(() => {
      component ??= load();
      return component;
    }, []);
    if (loaded.state === 'loading') return <Loading what="page" />;
    if (loaded.state === 'failed') return <Problem error={loaded.error} what="page" />;
    const Page = loaded.value;
    return <Page {...props} />;
  };
}
