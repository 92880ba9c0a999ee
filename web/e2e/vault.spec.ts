import { expect, test } from "@playwright/test";
import { screenshot, signIn, VAULT_FILES } from "./support";

// The real vault (local, filled by global setup) with two people in two browsers.
test("check out, a second person refused with the holder's name, check in a new version", async ({ browser }) => {
  const adminContext = await browser.newContext();
  const memberContext = await browser.newContext();
  try {
    const admin = await adminContext.newPage();
    const member = await memberContext.newPage();
    const count = Object.keys(VAULT_FILES).length;

    // Morgan opens the check-out dialog first and is still typing the reason ...
    await signIn(member, "morgan");
    await member.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Vault", exact: true }).click();
    await expect(member.getByText(`Showing ${count} of ${count}`)).toBeVisible();
    await member.getByRole("button", { name: "Check out op10-roughing.nc" }).click();
    const memberDialog = member.getByRole("dialog", { name: "Check out op10-roughing.nc" });
    await memberDialog.getByLabel("Reason").fill("Night shift needs it");

    // ... when the administrator checks the file out.
    await signIn(admin);
    await admin.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Vault", exact: true }).click();
    await admin.getByRole("button", { name: "Check out op10-roughing.nc" }).click();
    const adminDialog = admin.getByRole("dialog", { name: "Check out op10-roughing.nc" });
    await expect(adminDialog.getByLabel("Reason")).toBeFocused();
    await adminDialog.getByLabel("Reason").fill("Shorter lead-in for the new vise");
    await adminDialog.getByRole("button", { name: "Check out" }).click();
    await expect(admin.getByRole("status", { name: "Notifications" })).toContainText("op10-roughing.nc is checked out to you.");
    const row = admin.getByRole("row", { name: /op10-roughing\.nc/ });
    await expect(row).toContainText("checked out by you");
    await expect(row).toContainText("Shorter lead-in for the new vise");
    await expect(row.getByRole("button", { name: "Check in op10-roughing.nc" })).toBeVisible();
    await screenshot(admin, "vault", { top: true });

    // Morgan sends the check-out: the server's 409 names the holder, shown in the dialog.
    const answer = member.waitForResponse((response) => response.url().endsWith("/checkout"));
    await memberDialog.getByRole("button", { name: "Check out" }).click();
    const refusal = await answer;
    expect(refusal.status()).toBe(409);
    const { detail } = (await refusal.json()) as { detail: string };
    expect(detail).toContain("Avery Admin");
    await expect(memberDialog.getByRole("alert")).toHaveText(detail);
    await member.keyboard.press("Escape");
    const memberRow = member.getByRole("row", { name: /op10-roughing\.nc/ });
    await expect(memberRow).toContainText("Avery Admin");
    await expect(memberRow.getByRole("button", { name: "Ask Avery Admin for op10-roughing.nc" })).toBeVisible();

    // The administrator checks in a new version (an upload) and the history shows it.
    await row.getByRole("button", { name: "Check in op10-roughing.nc" }).click();
    const checkIn = admin.getByRole("dialog", { name: "Check in op10-roughing.nc" });
    await checkIn.getByLabel("New content").setInputFiles({
      name: "op10-roughing.nc",
      mimeType: "text/plain",
      buffer: Buffer.from(`${VAULT_FILES["programs/op10-roughing.nc"]}G1 X5. Y5. (shorter lead-in)\n`),
    });
    await checkIn.getByLabel("Message").fill("Lead-in shortened to 5 mm");
    await checkIn.getByRole("button", { name: "Check in" }).click();
    await expect(admin.getByRole("status", { name: "Notifications" })).toContainText(
      "A new version is stored; op10-roughing.nc is released.",
    );
    await expect(row).toContainText("available");
    await admin.getByRole("button", { name: "History of op10-roughing.nc" }).click();
    const versions = admin.getByRole("dialog", { name: "History of op10-roughing.nc" }).getByRole("list", { name: "Versions" });
    await expect(versions.getByRole("listitem")).toHaveCount(2);
    await expect(versions.getByRole("listitem").first()).toContainText("Lead-in shortened to 5 mm");
    await expect(versions.getByRole("listitem").first()).toContainText("current");
    await expect(versions.getByRole("listitem").last()).toContainText("First version");

    // Morgan's page follows live: the file is free again, without a reload.
    await expect(memberRow.getByRole("button", { name: "Check out op10-roughing.nc" })).toBeVisible();
  } finally {
    await adminContext.close();
    await memberContext.close();
  }
});
