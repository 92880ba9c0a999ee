// @vitest-environment node
import type { ServerResponse } from "node:http";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { json, type SeenRequest, startServer, type TestServer } from "../testing/server";
import { createAuth, DASHBOARD_REFRESH_TRANSPORT } from "./auth";
import { ApiError } from "./client";

/** A tiny auth server: one user, access tokens `a<n>`, rotating refresh tokens `r<n>`. */
function authServer(server: TestServer) {
  let issued = 0;
  const validAccess = new Set<string>();
  const validRefresh = new Set<string>();
  function issue(res: ServerResponse) {
    issued += 1;
    validAccess.add(`a${issued}`);
    validRefresh.add(`r${issued}`);
    json(res, 200, {
      access_token: `a${issued}`,
      token_type: "bearer",
      expires_in: 900,
      refresh_token: `r${issued}`,
    });
  }
  const bearer = (req: SeenRequest) => (req.headers.authorization ?? "").replace("Bearer ", "");
  server.handle((req, res) => {
    const body = req.body ? (JSON.parse(req.body) as Record<string, string>) : {};
    if (req.url === "/api/auth/login") {
      if (body.username === "ada" && body.password === "correct horse") return issue(res);
      return json(res, 401, { detail: "The username or password is wrong.", code: "not_authenticated" });
    }
    if (req.url === "/api/auth/login-gitlab") {
      if (body.token === "glpat-good") return issue(res);
      return json(res, 401, { detail: "GitLab refused this token.", code: "not_authenticated" });
    }
    if (req.url === "/api/auth/refresh") {
      const token = body.refresh_token ?? "";
      if (!validRefresh.delete(token)) {
        return json(res, 401, { detail: "Your session has ended; sign in again.", code: "not_authenticated" });
      }
      return issue(res);
    }
    if (!validAccess.has(bearer(req))) {
      return json(res, 401, { detail: "Your session has expired.", code: "not_authenticated" });
    }
    if (req.url === "/api/auth/logout-all") {
      validRefresh.clear();
      validAccess.clear();
      res.writeHead(204);
      return res.end();
    }
    if (req.url === "/api/auth/logout") {
      validRefresh.delete(body.refresh_token ?? "");
      validAccess.delete(bearer(req));
      res.writeHead(204);
      return res.end();
    }
    if (req.url === "/api/auth/me") {
      return json(res, 200, {
        id: 1,
        username: "ada",
        display_name: "Ada Lovelace",
        email: "ada@example.com",
        roles: ["admin"],
        is_active: true,
      });
    }
    return json(res, 404, { detail: "Not Found" });
  });
  return {
    expireAccessTokens: () => validAccess.clear(),
    revokeAll: () => {
      validAccess.clear();
      validRefresh.clear();
    },
  };
}

let server: TestServer;
beforeEach(async () => {
  server = await startServer();
});
afterEach(async () => {
  await server.close();
});

describe("password sign-in", () => {
  it("signs in, reads the user and keeps the token in memory", async () => {
    authServer(server);
    const auth = createAuth({ baseUrl: server.url });
    expect(auth.isSignedIn()).toBe(false);
    await auth.login("ada", "correct horse");
    expect(auth.accessToken()).toBe("a1");
    expect((await auth.me()).display_name).toBe("Ada Lovelace");
  });

  it("rejects a wrong password with the server's sentence", async () => {
    authServer(server);
    const auth = createAuth({ baseUrl: server.url });
    const error = await auth.login("ada", "wrong").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).detail).toBe("The username or password is wrong.");
    expect(auth.isSignedIn()).toBe(false);
  });

  it("signs in with a GitLab token", async () => {
    authServer(server);
    const auth = createAuth({ baseUrl: server.url });
    await auth.loginWithGitlabToken("glpat-good");
    expect(auth.isSignedIn()).toBe(true);
    expect(JSON.parse(server.seen[0]?.body ?? "")).toEqual({ token: "glpat-good" });
  });
});

describe("refresh", () => {
  it("renews an expired access token with the rotating refresh token, once for many calls", async () => {
    const control = authServer(server);
    const auth = createAuth({ baseUrl: server.url });
    await auth.login("ada", "correct horse");
    control.expireAccessTokens();
    const users = await Promise.all([auth.me(), auth.me(), auth.me()]);
    expect(users.map((user) => user.username)).toEqual(["ada", "ada", "ada"]);
    expect(server.seen.filter((req) => req.url === "/api/auth/refresh")).toHaveLength(1);
    expect(auth.accessToken()).toBe("a2");
  });

  it("has nothing to renew before a sign-in", async () => {
    authServer(server);
    const auth = createAuth({ baseUrl: server.url });
    await expect(auth.refresh()).resolves.toBe(false);
    expect(server.seen).toHaveLength(0);
  });

  it("ends the session when the refresh token is refused", async () => {
    const control = authServer(server);
    const auth = createAuth({ baseUrl: server.url });
    let ended = 0;
    auth.onSessionEnded(() => (ended += 1));
    await auth.login("ada", "correct horse");
    control.revokeAll(); // e.g. an administrator disabled the account
    const error = await auth.me().catch((caught: unknown) => caught);
    expect((error as ApiError).detail).toBe("Your session has expired.");
    expect(ended).toBe(1);
    expect(auth.isSignedIn()).toBe(false);
  });
});

describe("logout", () => {
  it("revokes the refresh token and forgets the tokens", async () => {
    authServer(server);
    const auth = createAuth({ baseUrl: server.url });
    let ended = false;
    auth.onSessionEnded(() => (ended = true));
    await auth.login("ada", "correct horse");
    await auth.logout();
    expect(auth.isSignedIn()).toBe(false);
    expect(ended).toBe(true);
    const logout = server.seen.find((req) => req.url === "/api/auth/logout");
    expect(JSON.parse(logout?.body ?? "")).toEqual({ refresh_token: "r1" });
    await expect(auth.refresh()).resolves.toBe(false);
  });

  it("forgets the tokens even when the server cannot be reached", async () => {
    authServer(server);
    const auth = createAuth({ baseUrl: server.url });
    await auth.login("ada", "correct horse");
    await server.close();
    await auth.logout();
    expect(auth.isSignedIn()).toBe(false);
    server = await startServer(); // for afterEach
  });
});

describe("logout everywhere", () => {
  it("ends every sign-in on the server with the bearer token, then forgets the tokens", async () => {
    authServer(server);
    const elsewhere = createAuth({ baseUrl: server.url });
    await elsewhere.login("ada", "correct horse");
    const auth = createAuth({ baseUrl: server.url });
    let ended = false;
    auth.onSessionEnded(() => (ended = true));
    await auth.login("ada", "correct horse");
    await auth.logoutEverywhere();
    expect(auth.isSignedIn()).toBe(false);
    expect(ended).toBe(true);
    const call = server.seen.find((req) => req.url === "/api/auth/logout-all");
    expect(call?.method).toBe("POST");
    expect(call?.headers.authorization).toBe("Bearer a2");
    // The other browser's sign-in ended too: its refresh token is refused.
    await expect(elsewhere.refresh()).resolves.toBe(false);
  });

  it("throws the server's refusal and keeps this session", async () => {
    server.handle((req, res) =>
      req.url === "/api/auth/login"
        ? json(res, 200, { access_token: "a1", token_type: "bearer", expires_in: 900, refresh_token: "r1" })
        : json(res, 503, { detail: "The server is busy; try again in a minute.", code: "unavailable" }),
    );
    const auth = createAuth({ baseUrl: server.url });
    await auth.login("ada", "correct horse");
    const error = await auth.logoutEverywhere().catch((caught: unknown) => caught);
    expect((error as ApiError).detail).toBe("The server is busy; try again in a minute.");
    expect(auth.isSignedIn()).toBe(true);
  });
});

describe("cookie transport", () => {
  it("sends cookies and the CSRF header instead of a refresh token in the body", async () => {
    server.handle((req, res) =>
      req.url === "/api/auth/refresh"
        ? json(res, 200, { access_token: "from-cookie", token_type: "bearer", expires_in: 900 })
        : json(res, 404, { detail: "Not Found" }),
    );
    const auth = createAuth({
      baseUrl: server.url,
      refreshTransport: "cookie",
      readCookies: () => "theme=dark; merge_assist_csrf=csrf%2Dvalue",
    });
    await expect(auth.refresh()).resolves.toBe(true);
    expect(auth.accessToken()).toBe("from-cookie");
    const [refresh] = server.seen;
    expect(refresh?.body).toBe("");
    expect(refresh?.headers["x-csrf-token"]).toBe("csrf-value");
  });

  it("reads the __Host- prefixed CSRF cookie the server sets over https", async () => {
    server.handle((req, res) =>
      req.url === "/api/auth/refresh"
        ? json(res, 200, { access_token: "over-https", token_type: "bearer", expires_in: 900 })
        : json(res, 404, { detail: "Not Found" }),
    );
    const auth = createAuth({
      baseUrl: server.url,
      refreshTransport: "cookie",
      readCookies: () => "theme=dark; __Host-merge_assist_csrf=host-bound",
    });
    await expect(auth.refresh()).resolves.toBe(true);
    expect(server.seen[0]?.headers["x-csrf-token"]).toBe("host-bound");
  });

  it("asks for the cookie at sign-in and keeps no refresh token in memory", async () => {
    server.handle((req, res) => {
      if (req.url === "/api/auth/login" || req.url === "/api/auth/login-gitlab") {
        // A cookie-transport answer: no refresh token in the body.
        return json(res, 200, { access_token: "a1", token_type: "bearer", expires_in: 900 });
      }
      if (req.url === "/api/auth/logout") {
        res.writeHead(204);
        return res.end();
      }
      return json(res, 404, { detail: "Not Found" });
    });
    const auth = createAuth({
      baseUrl: server.url,
      refreshTransport: "cookie",
      readCookies: () => "merge_assist_csrf=c1",
    });
    await auth.login("ada", "correct horse");
    await auth.loginWithGitlabToken("glpat-good");
    expect(auth.accessToken()).toBe("a1");
    const [login, gitlab] = server.seen;
    expect(login?.headers["x-refresh-transport"]).toBe("cookie");
    expect(gitlab?.headers["x-refresh-transport"]).toBe("cookie");
    await auth.logout();
    const logout = server.seen.find((req) => req.url === "/api/auth/logout");
    expect(logout?.body).toBe("");
    expect(logout?.headers["x-csrf-token"]).toBe("c1");
    expect(auth.isSignedIn()).toBe(false);
  });

  it("keeps the session over a reload: a fresh client renews from the cookie", async () => {
    server.handle((req, res) =>
      req.url === "/api/auth/refresh" && req.headers["x-csrf-token"] === "c1"
        ? json(res, 200, { access_token: "after-reload", token_type: "bearer", expires_in: 900 })
        : json(res, 403, { detail: "The X-CSRF-Token header is missing.", code: "forbidden" }),
    );
    const reloaded = createAuth({
      baseUrl: server.url,
      refreshTransport: "cookie",
      readCookies: () => "merge_assist_csrf=c1",
    });
    await expect(reloaded.refresh()).resolves.toBe(true);
    expect(reloaded.isSignedIn()).toBe(true);
    const withoutCsrf = createAuth({ baseUrl: server.url, refreshTransport: "cookie", readCookies: () => "" });
    await expect(withoutCsrf.refresh()).resolves.toBe(false);
  });

  it("is what the dashboard uses", () => {
    expect(DASHBOARD_REFRESH_TRANSPORT).toBe("cookie");
  });
});
