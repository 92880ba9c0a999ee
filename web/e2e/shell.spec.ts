import { expect, type Page, test } from "@playwright/test";
import { QUEUE_PROJECT, screenshot, signIn, VAULT_FILES } from "./support";

const count = Object.keys(VAULT_FILES).length;
// Every section on the real server, with what global setup put there.
const SECTIONS: { link: string; path: string; shows: (page: Page) => ReturnType<Page["getByText"]> }[] = [
  { link: "Merge queue", path: "/queue", shows: (page) => page.getByRole("link", { name: /^!1 Probe cycle for the second fixture/ }) },
  { link: "Vault", path: "/vault", shows: (page) => page.getByText(`Showing ${count} of ${count}`) },
  { link: "Messages", path: "/messages", shows: (page) => page.getByText("Your inbox is empty.", { exact: true }) },
  { link: "Logs", path: "/logs", shows: (page) => page.getByRole("log", { name: `Log of ${QUEUE_PROJECT}` }) },
  { link: "Health", path: "/health", shows: (page) => page.getByText("sqlite", { exact: true }) },
  { link: "Administration", path: "/admin", shows: (page) => page.getByRole("cell", { name: QUEUE_PROJECT, exact: true }) },
];

test.describe("the shell after sign-in", () => {
  test("every section shows the server's data", async ({ page }) => {
    await signIn(page);
    await expect(page).toHaveURL(/\/queue$/);
    await expect(page.getByRole("button", { name: "Messages" })).toBeVisible();
    await expect(page.getByRole("combobox", { name: "Project" }).locator("option:checked")).toHaveText(QUEUE_PROJECT);
    const nav = page.getByRole("navigation", { name: "Main" });
    for (const section of SECTIONS) {
      await nav.getByRole("link", { name: section.link, exact: true }).click();
      await expect(page).toHaveURL(new RegExp(`${section.path}$`));
      await expect(page.getByRole("heading", { level: 1, name: section.link })).toBeVisible();
      await expect(section.shows(page).first()).toBeVisible();
      if (section.path === "/health") {
        // The real server's readiness, its worker and the lease on the onboarded project.
        await expect(page.getByRole("table", { name: "Workers" })).toContainText("alive");
        await expect(page.getByRole("region", { name: "Project leases" })).toContainText(`${QUEUE_PROJECT}: held by worker-`);
        await screenshot(page, "health", { top: true });
      }
    }
  });

  test("logging out returns to the login page", async ({ page }) => {
    await signIn(page);
    await page.getByRole("button", { name: "Account menu for Avery Admin" }).click();
    await page.getByRole("menuitem", { name: "Log out", exact: true }).click();
    await expect(page.getByRole("heading", { name: "Sign in to Merge Assist" })).toBeVisible();
    await expect(page.getByRole("status", { name: "Notifications" })).toContainText("You are signed out.");
  });
});
