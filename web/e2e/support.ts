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

/** The project global setup onboards (the sandbox scenario in playwright.config.ts has it). */
export const QUEUE_PROJECT = "machining/fixtures";

/** The files global setup puts in the (local, default) vault. */
export const VAULT_FILES: Record<string, string> = {
  "programs/op10-roughing.nc": "(OP10 ROUGHING)\nG0 G90 G54 X0 Y0\nS8000 M3\nG1 Z-2. F600\n",
  "fixtures/clamp-plate.mcam": "clamp plate, 4 clamps, 160 x 120\n",
};

/** The people global setup creates: administrator, member, viewer. */
export type Person = "admin" | "morgan" | "vera";
const PASSWORD_VARIABLE: Record<Person, string> = {
  admin: "MERGE_ASSIST_E2E_ADMIN_PASSWORD",
  morgan: "MERGE_ASSIST_E2E_MEMBER_PASSWORD",
  vera: "MERGE_ASSIST_E2E_VIEWER_PASSWORD",
};

/** Sign in through the login form as a person made by global setup (the administrator by default). */
export async function signIn(page: Page, who: Person = "admin"): Promise<void> {
  const password = process.env[PASSWORD_VARIABLE[who]];
  if (!password) throw new Error(`global setup did not create the e2e user ${who}`);
  await page.goto("/login");
  await page.getByLabel("Username").fill(who);
  await passwordInput(page).fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("navigation", { name: "Main" }).waitFor();
}

/** Set how fast the GitLab sandbox's clock runs (simulated seconds per second): CI time. */
export async function setSandboxClockSpeed(speed: number): Promise<void> {
  const answer = await fetch(`${process.env.MERGE_ASSIST_E2E_SANDBOX_URL}/-/sandbox/clock`, {
    method: "POST",
    headers: { Authorization: `Bearer ${process.env.MERGE_ASSIST_E2E_SANDBOX_ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ speed }),
  });
  if (!answer.ok) throw new Error(`the sandbox refused the clock speed: ${answer.status} ${await answer.text()}`);
}
