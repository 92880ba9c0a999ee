import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Page } from "@playwright/test";

/** Where the README's pictures live (committed, so keep them small). */
export const SCREENSHOTS_DIR = fileURLToPath(new URL("../../docs/screenshots/", import.meta.url));

export async function screenshot(page: Page, name: string, options: { top?: boolean } = {}): Promise<void> {
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  if (options.top) {
    // A picture of the page itself: no toasts over it, scrolled to its beginning.
    // (in one go: toasts also leave by themselves, so a locator could outlive its element)
    await page.evaluate(() => {
      for (const dismiss of document.querySelectorAll<HTMLButtonElement>('button[aria-label="Dismiss notification"]')) dismiss.click();
      window.scrollTo(0, 0);
    });
  }
  await page.screenshot({ path: `${SCREENSHOTS_DIR}${name}.png`, scale: "css", animations: "disabled" });
}

/** The password field (the tab panel shares the name "Password", so ask for the input). */
export function passwordInput(page: Page) {
  return page.getByRole("tabpanel").locator("input[name=password]");
}

/** Sign in through the login form as a person made by global setup (the administrator by default). */
export async function signIn(page: Page, who: "admin" | "morgan" = "admin"): Promise<void> {
  const password =
    who === "admin" ? process.env.MERGE_ASSIST_E2E_ADMIN_PASSWORD : process.env.MERGE_ASSIST_E2E_MEMBER_PASSWORD;
  if (!password) throw new Error(`global setup did not create the e2e user ${who}`);
  await page.goto("/login");
  await page.getByLabel("Username").fill(who);
  await passwordInput(page).fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("navigation", { name: "Main" }).waitFor();
}
