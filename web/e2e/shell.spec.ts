import { expect, test } from "@playwright/test";
import { standIn } from "./fixtures";
import { screenshot, signIn } from "./support";

// On a fresh server every section says what to do to fill it.
const EMPTY: { link: string; path: string; sentence: string }[] = [
  { link: "Merge queue", path: "/queue", sentence: "No projects yet." },
  { link: "Vault", path: "/vault", sentence: "No vault files yet." },
  { link: "Messages", path: "/messages", sentence: "Your inbox is empty." },
  { link: "Logs", path: "/logs", sentence: "No projects yet." },
  { link: "Health", path: "/health", sentence: "API" },
  { link: "Administration", path: "/admin", sentence: "No projects are connected yet." },
];

test.describe("the shell after sign-in", () => {
  test("every section of a fresh server says what to do", async ({ page }) => {
    await page.route(/\/api\/vault\//, (route) => route.fulfill({ status: 200, contentType: "application/json", body: route.request().url().includes("/vaults") ? "[]" : JSON.stringify({ items: [], total: 0, vault_total: 0, limit: 200, offset: 0 }) }));
    await signIn(page);
    await expect(page).toHaveURL(/\/queue$/);
    await expect(page.getByRole("button", { name: "Messages" })).toBeVisible();
    await expect(page.getByRole("combobox", { name: "Project" })).toBeDisabled();
    const nav = page.getByRole("navigation", { name: "Main" });
    for (const section of EMPTY) {
      await nav.getByRole("link", { name: section.link, exact: true }).click();
      await expect(page).toHaveURL(new RegExp(`${section.path}$`));
      await expect(page.getByRole("heading", { level: 1, name: section.link })).toBeVisible();
      await expect(page.getByText(section.sentence, { exact: true }).first()).toBeVisible();
      if (section.path === "/health") {
        // The real server's readiness, not a stand-in.
        await expect(page.getByText("sqlite", { exact: true })).toBeVisible();
        await screenshot(page, "health");
      }
    }
  });

  test("the merge queue, logs and vault with data (stand-in answers for their APIs)", async ({ page }) => {
    await standIn(page);
    await signIn(page);
    await expect(page.getByRole("region", { name: "Ready to merge (2)" })).toBeVisible();
    await expect(page.getByRole("region", { name: "Not ready (1)" })).toContainText("The pipeline failed (job lint-gcode).");
    await expect(page.getByRole("img", { name: /merged in the last 24 hours/ })).toBeVisible();
    await expect(page.getByRole("button", { name: "Raise priority of !102" })).toBeEnabled();
    await screenshot(page, "merge-queue");

    const nav = page.getByRole("navigation", { name: "Main" });
    await nav.getByRole("link", { name: "Logs", exact: true }).click();
    await expect(page.getByRole("log", { name: "Log of machining/cam-programs" })).toContainText("strike 1 of 3");
    await screenshot(page, "logs");

    await nav.getByRole("link", { name: "Vault", exact: true }).click();
    await expect(page.getByText("Showing 3 of 3")).toBeVisible();
    await expect(page.getByRole("row", { name: /op10-roughing\.nc/ })).toContainText("Linus Lathe");
    await screenshot(page, "vault");
    await page.getByRole("button", { name: "Check out clamp-plate.mcam" }).click();
    await expect(page.getByRole("dialog", { name: "Check out clamp-plate.mcam" })).toBeVisible();
    await expect(page.getByLabel("Reason")).toBeFocused();
    await page.keyboard.press("Escape");
    await expect(page.getByRole("dialog")).toHaveCount(0);

    await page.getByRole("switch", { name: "Dark theme" }).click();
    await nav.getByRole("link", { name: "Merge queue", exact: true }).click();
    await expect(page.getByRole("region", { name: "Ready to merge (2)" })).toBeVisible();
    await screenshot(page, "merge-queue-dark");
  });

  test("logging out returns to the login page", async ({ page }) => {
    await signIn(page);
    await page.getByRole("button", { name: "Account menu for Avery Admin" }).click();
    await page.getByRole("menuitem", { name: "Log out" }).click();
    await expect(page.getByRole("heading", { name: "Sign in to Merge Assist" })).toBeVisible();
    await expect(page.getByRole("status", { name: "Notifications" })).toContainText("You are signed out.");
  });
});
