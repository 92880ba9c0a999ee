// @vitest-environment node
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { closedPortUrl, json, startServer, type TestServer } from "../testing/server";
import { ApiError, createApiClient, NETWORK_ERROR_SENTENCE } from "./client";

let server: TestServer;
beforeEach(async () => {
  server = await startServer();
});
afterEach(async () => {
  await server.close();
});

function client(overrides: Partial<Parameters<typeof createApiClient>[0]> = {}) {
  let token: string | null = "old-token";
  const refresh = vi.fn(async () => {
    token = "new-token";
    return true;
  });
  const onUnauthenticated = vi.fn();
  const api = createApiClient({
    baseUrl: server.url,
    getAccessToken: () => token,
    refresh,
    onUnauthenticated,
    ...overrides,
  });
  return { api, refresh, onUnauthenticated };
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

describe("errors", () => {
  it("carries the server's detail sentence, code and status", async () => {
    server.handle((_req, res) =>
      json(res, 409, { detail: "Someone else has this file checked out.", code: "conflict" }),
    );
    const error = await rejection(client().api.get("/api/vault/files/1"));
    expect(error.status).toBe(409);
    expect(error.code).toBe("conflict");
    expect(error.detail).toBe("Someone else has this file checked out.");
    expect(error.message).toBe("Someone else has this file checked out.");
  });

  it("writes its own sentence when the body is not the server's JSON", async () => {
    server.handle((_req, res) => {
      res.writeHead(502, "Bad Gateway", { "Content-Type": "text/html" });
      res.end("<html>proxy error</html>");
    });
    const error = await rejection(client().api.get("/api/projects"));
    expect(error.status).toBe(502);
    expect(error.code).toBe("bad_response");
    expect(error.detail).toBe("The server answered with status 502 (Bad Gateway). Try again in a moment.");
  });

  it("says the server is unreachable when nothing listens", async () => {
    const api = createApiClient({
      baseUrl: await closedPortUrl(),
      getAccessToken: () => null,
      refresh: async () => false,
    });
    const error = await rejection(api.get("/api/health"));
    expect(error.status).toBe(0);
    expect(error.code).toBe("network");
    expect(error.detail).toBe(NETWORK_ERROR_SENTENCE);
  });

  it("refuses a success reply that is not JSON", async () => {
    server.handle((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end("hello");
    });
    const error = await rejection(client().api.get("/api/health"));
    expect(error.code).toBe("bad_response");
  });
});

describe("requests", () => {
  it("sends JSON with the bearer token and parses the reply", async () => {
    server.handle((req, res) => json(res, 201, { echoed: JSON.parse(req.body) }));
    const reply = await client().api.post<{ echoed: unknown }>("/api/things", { name: "a" });
    expect(reply).toEqual({ echoed: { name: "a" } });
    const [request] = server.seen;
    expect(request?.method).toBe("POST");
    expect(request?.headers.authorization).toBe("Bearer old-token");
    expect(request?.headers["content-type"]).toBe("application/json");
  });

  it("returns undefined for 204 No Content", async () => {
    server.handle((_req, res) => {
      res.writeHead(204);
      res.end();
    });
    await expect(client().api.del("/api/things/1")).resolves.toBeUndefined();
  });

  it("sends no token on anonymous requests", async () => {
    server.handle((_req, res) => json(res, 200, {}));
    await client().api.get("/api/health", { anonymous: true });
    expect(server.seen[0]?.headers.authorization).toBeUndefined();
  });
});

describe("refresh on 401", () => {
  it("refreshes once and retries with the new token", async () => {
    server.handle((req, res) =>
      req.headers.authorization === "Bearer new-token"
        ? json(res, 200, { ok: true })
        : json(res, 401, { detail: "Your session has expired.", code: "not_authenticated" }),
    );
    const { api, refresh, onUnauthenticated } = client();
    await expect(api.get("/api/auth/me")).resolves.toEqual({ ok: true });
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(server.seen.map((r) => r.headers.authorization)).toEqual([
      "Bearer old-token",
      "Bearer new-token",
    ]);
    expect(onUnauthenticated).not.toHaveBeenCalled();
  });

  it("gives up after one retry and ends the session", async () => {
    server.handle((_req, res) =>
      json(res, 401, { detail: "Your account is disabled.", code: "not_authenticated" }),
    );
    const { api, refresh, onUnauthenticated } = client();
    const error = await rejection(api.get("/api/auth/me"));
    expect(error.status).toBe(401);
    expect(error.detail).toBe("Your account is disabled.");
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(server.seen).toHaveLength(2);
    expect(onUnauthenticated).toHaveBeenCalledTimes(1);
  });

  it("does not retry when the refresh fails", async () => {
    server.handle((_req, res) => json(res, 401, { detail: "Sign in again.", code: "not_authenticated" }));
    const { api, onUnauthenticated } = client({ refresh: async () => false });
    const error = await rejection(api.get("/api/auth/me"));
    expect(error.detail).toBe("Sign in again.");
    expect(server.seen).toHaveLength(1);
    expect(onUnauthenticated).toHaveBeenCalledTimes(1);
  });

  it("never refreshes for anonymous calls such as the login", async () => {
    server.handle((_req, res) =>
      json(res, 401, { detail: "The username or password is wrong.", code: "not_authenticated" }),
    );
    const { api, refresh } = client();
    const error = await rejection(api.post("/api/auth/login", {}, { anonymous: true }));
    expect(error.detail).toBe("The username or password is wrong.");
    expect(refresh).not.toHaveBeenCalled();
  });
});
