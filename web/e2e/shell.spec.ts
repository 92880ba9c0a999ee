import { expect, test } from "@playwright/test";
import { screenshot, signIn } from "./support";

const SECTIONS: { link: string; path: string; shot: string; sentence: string }[] = [
  { link: "Merge queue", path: "/queue", shot: "merge-queue", sentence: "No merge requests are queued yet." },
  { link: "Vault", path: "/vault", shot: "vault", sentence: "No vault files yet." },
  { link: "Messages", path: "/messages", shot: "messages", sentence: "No messages." },
  { link: "Logs", path: "/logs", shot: "logs", sentence: "Nothing has been logged yet." },
  { link: "Health", path: "/health", shot: "health", sentence: "Only the API's own checks are available so far." },
  { link: "Administration", path: "/admin", shot: "administration", sentence: "Administration tools are on their way." },
];

test.describe("the shell after sign-in", () => {
  test("every section says what will appear there", async ({ page }) => {
    await signIn(page);
    await expect(page).toHaveURL(/\/queue$/);
    await expect(page.getByRole("button", { name: "Messages" })).toBeVisible();
    await expect(page.getByRole("combobox", { name: "Project" })).toBeDisabled();
    const nav = page.getByRole("navigation", { name: "Main" });
    for (const section of SECTIONS) {
      await nav.getByRole("link", { name: section.link, exact: true }).click();
      await expect(page).toHaveURL(new RegExp(`${section.path}$`));
      await expect(page.getByRole("heading", { level: 1, name: section.link })).toBeVisible();
      await expect(page.getByText(section.sentence)).toBeVisible();
      if (section.path === "/health") {
        // The real server's readiness, not a stand-in.
        await expect(page.getByText("sqlite", { exact: true })).toBeVisible();
      }
      await screenshot(page, section.shot);
    }
  });

  test("logging out returns to the login page", async ({ page }) => {
    await signIn(page);
    await page.getByRole("button", { name: "Account menu for Avery Admin" }).click();
    await page.getByRole("menuitem", { name: "Log out" }).click();
    await expect(page.getByRole("heading", { name: "Sign in to Merge Assist" })).toBeVisible();
    await expect(page.getByRole("status", { name: "Notifications" })).toContainText("You are signed out.");
  });
});
