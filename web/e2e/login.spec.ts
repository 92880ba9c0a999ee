import { expect, test } from "@playwright/test";
import { passwordInput, screenshot } from "./support";

test.describe("login page", () => {
  test("a visitor is sent to the login page with both sign-in methods", async ({ page }) => {
    await page.goto("/vault");
    await expect(page).toHaveURL(/\/login$/);
    await expect(page.getByRole("heading", { name: "Sign in to Merge Assist" })).toBeVisible();
    await expect(page.getByRole("tab")).toHaveText(["Password", "GitLab Token"]);
    await expect(page.getByRole("tab", { name: "Password" })).toHaveAttribute("aria-selected", "true");
    await expect(page.getByLabel("Username")).toBeVisible();
    await expect(passwordInput(page)).toBeVisible();
    await screenshot(page, "login");

    await page.getByRole("tab", { name: "Password" }).focus();
    await page.keyboard.press("ArrowRight");
    await expect(page.getByRole("tab", { name: "GitLab Token" })).toBeFocused();
    const token = page.getByLabel("GitLab personal access token");
    await expect(token).toBeVisible();
    await expect(token).toHaveAttribute("type", "password");
    await expect(page.getByText("read_api together with")).toBeVisible();
    await screenshot(page, "login-gitlab-token");
  });

  // The real server refuses the password; its own sentence is what the page shows.
  test("a failed sign-in shows the server's sentence", async ({ page }) => {
    await page.goto("/login");
    await page.getByLabel("Username").fill("nobody");
    await passwordInput(page).fill("wrong password");
    const answer = page.waitForResponse((response) => response.url().endsWith("/api/auth/login"));
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    const response = await answer;
    expect(response.status()).toBe(401);
    const { detail } = (await response.json()) as { detail: string };
    expect(detail).toBeTruthy();
    await expect(page.getByRole("alert").filter({ hasText: detail })).toHaveText(detail);
    await expect(page).toHaveURL(/\/login$/);
  });

  // Grace exists only on GitLab (the sandbox issued her token): her first sign-in registers her
  // as a viewer (the default role of GitLab sign-ins).
  test("a GitLab token signs a new person in and lands in the dashboard", async ({ page }) => {
    await page.goto("/login");
    await page.getByRole("tab", { name: "GitLab Token" }).click();
    await page.getByLabel("GitLab personal access token").fill(process.env.MERGE_ASSIST_E2E_GITLAB_TOKEN ?? "");
    const answer = page.waitForResponse((response) => response.url().endsWith("/api/auth/login-gitlab"));
    await page.getByRole("button", { name: "Sign in with GitLab" }).click();
    expect((await answer).status()).toBe(200);
    await expect(page).toHaveURL(/\/queue$/);
    await expect(page.getByRole("button", { name: "Account menu for Grace Hopper" })).toBeVisible();
    await expect(page.getByRole("heading", { level: 1, name: "Merge queue" })).toBeVisible();
    await expect(page.getByRole("link", { name: /^!1 Probe cycle for the second fixture/ })).toBeVisible();
    await page.getByRole("button", { name: "Account menu for Grace Hopper" }).click();
    await expect(page.getByRole("menu", { name: "Account" })).toContainText("Roles: viewer"); // MERGE_ASSIST_GITLAB_LOGIN_DEFAULT_ROLE
  });

  test("the theme choice is remembered across visits", async ({ page }) => {
    await page.goto("/login");
    const html = page.locator("html");
    await expect(html).not.toHaveClass(/dark/);
    const toggle = page.getByRole("switch", { name: "Dark theme" });
    await toggle.click();
    await expect(toggle).toHaveAttribute("aria-checked", "true");
    await expect(html).toHaveClass(/dark/);
    await page.reload();
    await expect(page.locator("html")).toHaveClass(/dark/);
    await expect(page.getByRole("switch", { name: "Dark theme" })).toHaveAttribute("aria-checked", "true");
    await screenshot(page, "login-dark");
  });
});

test.describe("serving", () => {
  test("the API keeps its JSON errors and bundles are cached for good", async ({ page, request }) => {
    const missing = await request.get("/api/no-such-endpoint");
    expect(missing.status()).toBe(404);
    expect(await missing.json()).toMatchObject({ detail: "Not Found" });

    const page404 = await request.get("/assets/no-such-bundle.js");
    expect(page404.status()).toBe(404);

    await page.goto("/login");
    const bundle = await page.locator("script[type=module]").getAttribute("src");
    expect(bundle).toMatch(/^\/assets\/.+\.js$/);
    const asset = await request.get(bundle ?? "");
    expect(asset.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
    const index = await request.get("/logs/anything");
    expect(index.headers()["cache-control"]).toBe("no-cache");
    expect(await index.text()).toContain('<div id="root">');
  });

  test("the dashboard runs under its Content-Security-Policy without a violation", async ({ page }) => {
    const violations: string[] = [];
    page.on("console", (message) => {
      if (message.text().includes("Content Security Policy")) violations.push(message.text());
    });
    const response = await page.goto("/login");
    const csp = response?.headers()["content-security-policy"] ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(response?.headers()["x-content-type-options"]).toBe("nosniff");
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
    expect(violations).toEqual([]);
  });
});
