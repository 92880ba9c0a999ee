import { act, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { ToastProvider, useToast } from "./Toasts";

function Buttons() {
  const toast = useToast();
  return (
    <>
      <button type="button" onClick={() => toast.show("File checked in.", "success")}>
        Info
      </button>
      <button type="button" onClick={() => toast.show("The check-in failed.", "error")}>
        Fail
      </button>
    </>
  );
}

describe("toasts", () => {
  it("announces information politely and lets it fade", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
      render(
        <ToastProvider durationMs={1000}>
          <Buttons />
        </ToastProvider>,
      );
      await user.click(screen.getByRole("button", { name: "Info" }));
      expect(screen.getByRole("status", { name: "Notifications" })).toHaveTextContent("File checked in.");
      act(() => {
        vi.advanceTimersByTime(1500);
      });
      expect(screen.getByRole("status", { name: "Notifications" })).not.toHaveTextContent("File checked in.");
    } finally {
      vi.useRealTimers();
    }
  });

  it("keeps errors in an alert until dismissed", async () => {
    const user = userEvent.setup();
    render(
      <ToastProvider durationMs={10}>
        <Buttons />
      </ToastProvider>,
    );
    await user.click(screen.getByRole("button", { name: "Fail" }));
    const alert = screen.getByRole("alert", { name: "Errors" });
    expect(alert).toHaveTextContent("The check-in failed.");
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(alert).toHaveTextContent("The check-in failed.");
    await user.click(screen.getByRole("button", { name: "Dismiss notification" }));
    expect(alert).toBeEmptyDOMElement();
  });

  it("refuses to work outside its provider", () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    expect(() => render(<Buttons />)).toThrow("useToast must be used inside <ToastProvider>");
  });
});
