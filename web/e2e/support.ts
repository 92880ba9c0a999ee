import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Page, Route } from "@playwright/test";

/** Where the README's pictures live (committed, so keep them small). */
export const SCREENSHOTS_DIR = fileURLToPath(new URL("../../docs/screenshots/", import.meta.url));

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS_DIR}${name}.png`, scale: "css", animations: "disabled" });
}

/** The password field (the tab panel shares the name "Password", so ask for the input). */
export function passwordInput(page: Page) {
  return page.getByRole("tabpanel").locator("input[name=password]");
}

const USER = {
  id: 1,
  username: "admin",
  display_name: "Avery Admin",
  email: "admin@example.com",
  roles: ["admin"],
  is_active: true,
};

/**
 * Sign in through the login form.
 *
 * TODO(after the auth feature merges): the answers of `/api/auth/*` are stood in for here
 * because this branch has no auth endpoints yet. Replace this with a real user (created in
 * global setup with the auth CLI) and delete the `page.route` calls; the tests stay as they are.
 */
export async function signIn(page: Page): Promise<void> {
  const tokens = { access_token: "e2e-access", token_type: "bearer", expires_in: 900, refresh_token: "e2e-refresh" };
  const reply = (body: unknown, status = 200) => (route: Route) =>
    route.fulfill({ status, contentType: "application/json", body: JSON.stringify(body) });
  await page.route("**/api/auth/login", reply(tokens));
  await page.route("**/api/auth/me", reply(USER));
  await page.route("**/api/auth/logout", (route) => route.fulfill({ status: 204 }));
  await page.goto("/login");
  await page.getByLabel("Username").fill("admin");
  await passwordInput(page).fill("e2e password");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("navigation", { name: "Main" }).waitFor();
}
