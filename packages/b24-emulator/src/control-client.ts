/**
 * The emulator's control API (`/_emulator/…`) over HTTP, as tests and the stack call it: JSON in,
 * JSON out, and an error naming the method, path and status when the emulator refuses.
 */
export type Control = <T = any>(method: string, path: string, body?: unknown) => Promise<T>;

/** `baseUrl` may be a function: the emulator's address is often known only once it listens. */
export function emulatorControl(baseUrl: string | (() => string)): Control {
  return async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const base = typeof baseUrl === 'function' ? baseUrl() : baseUrl;
    const response = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`emulator ${method} ${path}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : null) as T;
  };
}
