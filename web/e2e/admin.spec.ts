import { expect, test } from "@playwright/test";
import { QUEUE_PROJECT, screenshot, signIn } from "./support";

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
    await screenshot(page, "administration-users", { top: true });

    await page.getByRole("tab", { name: "Audit log" }).click();
    await page.getByLabel("Action").fill("user.*");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await expect(page.getByRole("table", { name: "Audit entries" })).toContainText("sam.setter");
    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: "Export CSV" }).click();
    expect((await download).suggestedFilename()).toMatch(/^audit-.*\.csv$/);
    await screenshot(page, "administration-audit", { top: true });
  });

  // The product talks to the GitLab sandbox over real HTTP: onboarding reads the project as the
  // bot and registers the webhook; deactivating removes it again.
  test("onboard a project, edit its settings and permissions, deactivate it", async ({ page, browser }) => {
    await signIn(page);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Administration" }).click();
    const onboard = page.getByRole("form", { name: "Onboard a project" });
    await onboard.getByLabel("GitLab project").fill("machining/no-such-project");
    await onboard.getByRole("button", { name: "Onboard" }).click();
    await expect(onboard.getByRole("alert")).toContainText("machining/no-such-project");

    await onboard.getByLabel("GitLab project").fill("machining/cam-programs");
    await onboard.getByRole("button", { name: "Onboard" }).click();
    await expect(page.getByRole("status", { name: "Notifications" })).toContainText("machining/cam-programs is onboarded.");
    await expect(page.getByRole("combobox", { name: "Project" })).toHaveValue(/\d+/);
    const settings = page.getByRole("form", { name: "Project settings" });
    await expect(settings.getByLabel("Target branches")).toHaveValue("main");

    // A batch size over the server's maximum: the server's sentence, next to the field.
    await settings.getByLabel("Strategy").selectOption("batch");
    await settings.getByLabel("Batch size").fill("5000");
    await settings.getByRole("button", { name: "Save settings" }).click();
    await expect(settings.getByLabel("Batch size")).toHaveAttribute("aria-invalid", "true");
    await expect(settings.getByRole("alert")).toHaveText("Please correct the fields marked below.");
    await settings.getByLabel("Batch size").fill("3");
    await settings.getByRole("button", { name: "Save settings" }).click();
    await expect(page.getByRole("status", { name: "Notifications" })).toContainText("Settings of machining/cam-programs saved.");
    await expect(settings.getByText(/Last changed .* by admin\./)).toBeVisible();

    const permissions = page.getByRole("region", { name: "Permissions on machining/cam-programs" });
    await permissions.getByLabel("Person").selectOption({ label: "Morgan Member (morgan)" });
    await permissions.getByRole("button", { name: "Grant" }).click();
    await expect(permissions.getByRole("table", { name: "Project permissions" })).toContainText("morgan");
    await screenshot(page, "administration", { top: true });

    // Someone who never chose a project opens the busiest queue, not the new empty one (which
    // sorts first and is the newest).
    const newcomer = await browser.newContext();
    try {
      const fresh = await newcomer.newPage();
      await signIn(fresh);
      await expect(fresh.getByRole("combobox", { name: "Project" }).locator("option:checked")).toHaveText(QUEUE_PROJECT);
      await expect(fresh.getByRole("combobox", { name: "Project" }).locator("option", { hasText: "machining/cam-programs" })).toHaveCount(1);
    } finally {
      await newcomer.close();
    }

    await page.getByRole("button", { name: "Deactivate machining/cam-programs" }).click();
    await page.getByRole("button", { name: "Yes, deactivate" }).click();
    await expect(page.getByRole("status", { name: "Notifications" })).toContainText(
      "machining/cam-programs is deactivated; its history is kept.",
    );
    // The project global setup onboarded keeps its queue.
    await expect(page.getByRole("cell", { name: QUEUE_PROJECT, exact: true })).toBeVisible();
  });
});
