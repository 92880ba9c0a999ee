import { expect, test } from "@playwright/test";
import { signIn } from "./support";

/** The refresh token lives in an httpOnly cookie, so a reload keeps the session. */
test.describe("the session across reloads", () => {
  test("a reload keeps the person signed in; logging out ends it for good", async ({ page, context }) => {
    const login = page.waitForResponse((response) => response.url().endsWith("/api/auth/login"));
    await signIn(page);
    const body = (await (await login).json()) as Record<string, unknown>;
    expect(body.access_token).toBeTruthy();
    expect(body).not.toHaveProperty("refresh_token");

    const cookies = await context.cookies();
    const refresh = cookies.find((cookie) => cookie.name === "merge_assist_refresh");
    const csrf = cookies.find((cookie) => cookie.name === "merge_assist_csrf");
    expect(refresh).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/api/auth" });
    expect(csrf).toMatchObject({ httpOnly: false, sameSite: "Strict", path: "/" });
    // Scripts on the page can read the CSRF token, never the refresh token.
    const readable = await page.evaluate(() => document.cookie);
    expect(readable).toContain("merge_assist_csrf=");
    expect(readable).not.toContain("merge_assist_refresh");

    await page.reload();
    await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
    await expect(page.getByRole("button", { name: "Account menu for Avery Admin" })).toBeVisible();
    await expect(page).not.toHaveURL(/\/login$/);

    await page.getByRole("button", { name: "Account menu for Avery Admin" }).click();
    await page.getByRole("menuitem", { name: "Log out", exact: true }).click();
    await expect(page.getByRole("heading", { name: "Sign in to Merge Assist" })).toBeVisible();
    const left = (await context.cookies()).map((cookie) => cookie.name);
    expect(left).not.toContain("merge_assist_refresh");
    expect(left).not.toContain("merge_assist_csrf");
    await page.reload();
    await expect(page.getByRole("heading", { name: "Sign in to Merge Assist" })).toBeVisible();
  });

  test("logging out everywhere also ends the session in another browser", async ({ browser }) => {
    const here = await browser.newContext();
    const elsewhere = await browser.newContext();
    try {
      const page = await here.newPage();
      const other = await elsewhere.newPage();
      await signIn(page, "morgan");
      await signIn(other, "morgan");
      await page.getByRole("button", { name: "Account menu for Morgan Member" }).click();
      const logoutAll = page.waitForResponse((response) => response.url().endsWith("/api/auth/logout-all"));
      await page.getByRole("menuitem", { name: "Log out everywhere" }).click();
      expect((await logoutAll).status()).toBe(204);
      await expect(page.getByRole("heading", { name: "Sign in to Merge Assist" })).toBeVisible();
      await expect(page.getByRole("status", { name: "Notifications" })).toContainText(
        "You are signed out in every browser and on every device.",
      );
      expect((await here.cookies()).map((cookie) => cookie.name)).not.toContain("merge_assist_refresh");
      // The other browser still has its cookie, but the server no longer accepts it.
      await other.reload();
      await expect(other.getByRole("heading", { name: "Sign in to Merge Assist" })).toBeVisible();
    } finally {
      await here.close();
      await elsewhere.close();
    }
  });
});
