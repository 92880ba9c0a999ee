import { expect, test } from "@playwright/test";
import { screenshot, signIn } from "./support";

// Two people in two browsers on the real server: one writes, the other's badge changes live.
test("a message reaches another person's open dashboard without a reload", async ({ browser }) => {
  const adminContext = await browser.newContext();
  const memberContext = await browser.newContext();
  try {
    const admin = await adminContext.newPage();
    const member = await memberContext.newPage();
    await signIn(member, "morgan");
    await expect(member.getByRole("img", { name: "Live updates on" })).toBeVisible();
    await expect(member.getByRole("button", { name: "Messages", exact: true })).toBeVisible();

    await signIn(admin);
    await admin.getByRole("button", { name: "Messages", exact: true }).click();
    const panel = admin.getByRole("dialog", { name: "Messages" });
    await panel.getByRole("button", { name: "Write a message" }).click();
    await panel.getByLabel("To", { exact: true }).fill("morgan");
    await panel.getByLabel("Subject").fill("Please release op10-roughing.nc");
    await panel.getByLabel("Message", { exact: true }).fill("I need it for the night shift. Thanks!");
    await panel.getByLabel("Related file (optional)").fill("programs/op10-roughing.nc");
    await panel.getByRole("button", { name: "Send" }).click();
    await expect(admin.getByRole("status", { name: "Notifications" })).toContainText("Message sent.");
    await expect(panel.getByRole("list", { name: "Sent messages" })).toContainText("Please release op10-roughing.nc");

    // The member's page was never reloaded: the badge and a toast arrive over the socket.
    await expect(member.getByRole("button", { name: "Messages, 1 unread" })).toBeVisible();
    await expect(member.getByRole("status", { name: "Notifications" })).toContainText(
      "New message from Avery Admin (@admin): Please release op10-roughing.nc",
    );
    await member.getByRole("button", { name: "Messages, 1 unread" }).click();
    const inbox = member.getByRole("dialog", { name: "Messages" });
    await inbox.getByRole("button", { name: /Please release op10-roughing\.nc/ }).click();
    await expect(inbox.getByText("I need it for the night shift. Thanks!")).toBeVisible();
    await expect(inbox.getByText("programs/op10-roughing.nc")).toBeVisible();
    await screenshot(member, "messages");
    await expect(member.getByRole("button", { name: "Messages", exact: true })).toBeVisible();

    // A refusal is the server's own sentence.
    await member.getByRole("button", { name: "Back to the list" }).click();
    await inbox.getByRole("button", { name: "Write a message" }).click();
    await inbox.getByLabel("To", { exact: true }).fill("nobody-here");
    await inbox.getByLabel("Subject").fill("Hello");
    await inbox.getByLabel("Message", { exact: true }).fill("Anyone?");
    const answer = member.waitForResponse((response) => response.url().endsWith("/api/messages") && response.request().method() === "POST");
    await inbox.getByRole("button", { name: "Send" }).click();
    const refusal = await answer;
    expect(refusal.status()).toBeGreaterThanOrEqual(400);
    const { detail } = (await refusal.json()) as { detail: string };
    await expect(inbox.getByRole("alert")).toHaveText(detail);
  } finally {
    await adminContext.close();
    await memberContext.close();
  }
});
