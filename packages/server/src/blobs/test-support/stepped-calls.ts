/**
 * Interleavings on purpose, for the race tests of the blob lifecycle: `stepped` numbers every
 * call made on a store or a blob store and runs a hook before each (a whole collection, a
 * wait), and `held` is a point where one side stops until the other releases it.
 */

/** A point where one side stops: `hold` waits there for `release`; `whenReached` resolves once it stops (or ends). */
export function held() {
  let reached: () => void = () => {};
  let release: () => void = () => {};
  const whenReached = new Promise<void>((resolve) => {
    reached = resolve;
  });
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  return {
    counter: { calls: 0 },
    whenReached,
    reached: () => reached(),
    release: () => release(),
    hold: () => {
      reached();
      return released;
    },
  };
}

/** Runs `before(step)` ahead of each call made on `target`, numbering the calls of both wrappers sharing `counter`. */
export function stepped<T extends object>(
  target: T,
  counter: { calls: number },
  before: (step: number, key: string | symbol, args: unknown[]) => Promise<void>,
): T {
  return new Proxy(target, {
    get(object, key) {
      const value = Reflect.get(object, key, object);
      if (typeof value !== 'function') return value;
      if (key === 'list') {
        // An async generator: the step comes before its first item.
        return async function* (...args: unknown[]) {
          await before(counter.calls++, key, args);
          yield* value.apply(object, args);
        };
      }
      return async (...args: unknown[]) => {
        await before(counter.calls++, key, args);
        return value.apply(object, args);
      };
    },
  });
}
