/**
 * A fake API at the fetch level for component tests: a table of `"METHOD /path"` answers
 * (`:name` matches one path segment). It fails closed: a request nobody answers is a 404 whose
 * sentence names it, and is listed in `unanswered` so a test can assert there were none.
 */

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  params: Record<string, string>;
  /** The JSON body, or the FormData of an upload. */
  body: unknown;
}

export interface FakeAnswer {
  status?: number;
  body?: unknown;
  /** A non-JSON answer (downloads). */
  text?: string;
  headers?: Record<string, string>;
}

export type FakeRoute = (request: FakeRequest) => FakeAnswer | unknown;

export interface FakeApi {
  fetch: typeof fetch;
  calls: FakeRequest[];
  unanswered: string[];
  /** Add or replace answers while the test runs. */
  on(key: string, route: FakeRoute | FakeAnswer | unknown): void;
  /** Calls to `"METHOD /path"` (the path as requested, without the query). */
  callsTo(key: string): FakeRequest[];
}

/** Wrap a status and body (a bare value answers 200 with it as JSON). */
export function answer(status: number, body?: unknown): FakeAnswer {
  return { status, body };
}

function isAnswer(value: unknown): value is FakeAnswer {
  // A body may have a `status` field of its own (readiness): only a numeric one is an answer's.
  return value !== null && typeof value === "object" && (typeof (value as FakeAnswer).status === "number" || "text" in value);
}

function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split("/");
  const got = path.split("/");
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const part = want[i] ?? "";
    if (part.startsWith(":")) params[part.slice(1)] = decodeURIComponent(got[i] ?? "");
    else if (part !== got[i]) return null;
  }
  return params;
}

export function fakeApi(routes: Record<string, FakeRoute | FakeAnswer | unknown> = {}): FakeApi {
  const table = new Map(Object.entries(routes));
  const calls: FakeRequest[] = [];
  const unanswered: string[] = [];

  const fetchImpl = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input), "http://dashboard.test");
    const method = (init?.method ?? "GET").toUpperCase();
    let body: unknown = init?.body;
    if (typeof body === "string") body = JSON.parse(body);
    for (const [key, route] of table) {
      const [routeMethod, pattern] = key.split(" ");
      if (routeMethod !== method || !pattern) continue;
      const params = match(pattern, url.pathname);
      if (!params) continue;
      const request = { method, path: url.pathname, query: url.searchParams, params, body };
      calls.push(request);
      const result = typeof route === "function" ? (route as FakeRoute)(request) : route;
      const reply: FakeAnswer = isAnswer(result) ? result : { status: 200, body: result };
      const status = reply.status ?? 200;
      if (status === 204) return new Response(null, { status });
      if (reply.text !== undefined) return new Response(reply.text, { status, headers: reply.headers ?? {} });
      return new Response(JSON.stringify(reply.body ?? null), {
        status,
        headers: { "Content-Type": "application/json", ...reply.headers },
      });
    }
    unanswered.push(`${method} ${url.pathname}${url.search}`);
    return new Response(JSON.stringify({ detail: `No fake answer for ${method} ${url.pathname}` }), { status: 404 });
  };

  return {
    fetch: fetchImpl as typeof fetch,
    calls,
    unanswered,
    on(key, route) {
      table.delete(key);
      // Newest first: a replacement wins over the answer given at the start.
      const entries = [...table];
      table.clear();
      table.set(key, route);
      for (const [k, v] of entries) table.set(k, v);
    },
    callsTo(key) {
      const [method, path] = key.split(" ");
      return calls.filter((call) => call.method === method && call.path === path);
    },
  };
}
