import { expect, test } from "@playwright/test";
import { screenshot, signIn } from "./support";

test.describe("administration on the real server", () => {
  test("users and roles: a refused password inline, then a new user", async ({ page }) => {
    await signIn(page);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Administration" }).click();
    await page.getByRole("tab", { name: "Users and roles" }).click();
    const users = page.getByRole("table", { name: "Users" });
    await expect(users).toContainText("Morgan Member");

    await page.getByRole("button", { name: "Add a user" }).click();
    const dialog = page.getByRole("dialog", { name: "Add a user" });
    await dialog.getByLabel("Username").fill("sam.setter");
    await dialog.getByLabel("Display name").fill("Sam Setter");
    await dialog.getByLabel("Password").fill("short");
    await dialog.getByLabel("Priority manager").check();
    await dialog.getByRole("button", { name: "Create user" }).click();
    // The server's own validation sentence, next to the field it is about.
    const password = dialog.getByLabel("Password");
    await expect(password).toHaveAttribute("aria-invalid", "true");
    await expect(dialog.locator(`#${await password.getAttribute("id")}-error`)).toContainText(/12/);

    await password.fill("a long enough password 42");
    await dialog.getByRole("button", { name: "Create user" }).click();
    await expect(page.getByRole("status", { name: "Notifications" })).toContainText("sam.setter can now sign in.");
    await expect(users.getByRole("row", { name: /Sam Setter/ })).toContainText("Priority manager");
    await screenshot(page, "administration-users");

    await page.getByRole("tab", { name: "Audit log" }).click();
    await page.getByLabel("Action").fill("user.*");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await expect(page.getByRole("table", { name: "Audit entries" })).toContainText("sam.setter");
    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: "Export CSV" }).click();
    expect((await download).suggestedFilename()).toMatch(/^audit-.*\.csv$/);
    await screenshot(page, "administration-audit");
  });

  test("onboarding shows the server's sentence when GitLab is not configured", async ({ page }) => {
    await signIn(page);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Administration" }).click();
    const form = page.getByRole("form", { name: "Onboard a project" });
    await form.getByLabel("GitLab project").fill("machining/cam-programs");
    await form.getByRole("button", { name: "Onboard" }).click();
    await expect(form.getByRole("alert")).toContainText("GitLab is not configured");
    await screenshot(page, "administration");
  });
});
