import { describe, expect, it } from "vitest";
import { createAuth } from "./auth";

describe("where the tokens live", () => {
  it("keeps them out of localStorage, sessionStorage and cookies", async () => {
    const tokens = {
      access_token: "access-123",
      token_type: "bearer",
      expires_in: 900,
      refresh_token: "refresh-456",
    };
    const auth = createAuth({ fetch: async () => new Response(JSON.stringify(tokens)) });
    await auth.login("ada", "correct horse");
    expect(auth.accessToken()).toBe("access-123");
    const stored = [
      ...Object.values({ ...localStorage }),
      ...Object.values({ ...sessionStorage }),
      document.cookie,
    ].join(" ");
    expect(stored).not.toContain("access-123");
    expect(stored).not.toContain("refresh-456");
    expect(localStorage.length + sessionStorage.length).toBe(0);
  });
});
