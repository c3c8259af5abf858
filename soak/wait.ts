// Waiting for a condition, bounded: the soak never sleeps for correctness, it polls until the thing it
// needs is true or a generous deadline passes (the machine may be busy).

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it is true; throws after `timeoutMs` naming what was awaited. */
export async function until(what: string, timeoutMs: number, check: () => Promise<boolean> | boolean, everyMs = 250): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Like until, but answers whether the condition came true instead of throwing. */
export async function eventually(timeoutMs: number, check: () => Promise<boolean> | boolean, everyMs = 500): Promise<boolean> {
  try {
    await until('', timeoutMs, check, everyMs);
    return true;
  } catch {
    return false;
  }
}

/** Resolves with the promise's value, or with `fallback` after `timeoutMs` (the promise is left to itself). */
export function within<T>(timeoutMs: number, promise: Promise<T>, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), timeoutMs)));
  return Promise.race([promise.finally(() => clearTimeout(timer)), late]);
}
