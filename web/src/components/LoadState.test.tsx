import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { LoadState } from "./LoadState";

const list = (items: string[]) => (
  <ul aria-label="Items">
    {items.map((item) => (
      <li key={item}>{item}</li>
    ))}
  </ul>
);

describe("LoadState", () => {
  it("says it is loading while there is no data yet", () => {
    render(<LoadState data={null} error={null} loading="Loading users…" empty="No users yet.">{list}</LoadState>);
    expect(screen.getByRole("status")).toHaveTextContent("Loading users…");
    expect(screen.queryByRole("list")).toBeNull();
  });

  it("shows the refusal over older data, with Try again calling the retry", async () => {
    const retry = vi.fn();
    render(<LoadState data={["a"]} error="The users could not be loaded." loading="Loading users…" onRetry={retry}>{list}</LoadState>);
    expect(screen.getByRole("alert")).toHaveTextContent("The users could not be loaded.");
    expect(screen.queryByRole("list")).toBeNull();
    await userEvent.setup().click(screen.getByRole("button", { name: "Try again" }));
    expect(retry).toHaveBeenCalledOnce();
  });

  it("says what to do next under a refusal without a retry", () => {
    render(<LoadState data={undefined} error="No." loading="…" errorHint="Reload the page.">{list}</LoadState>);
    expect(screen.getByRole("alert")).toHaveTextContent("Reload the page.");
    expect(screen.queryByRole("button")).toBeNull();
    expect(screen.queryByRole("status")).toBeNull();
  });

  it("shows the empty sentence and its hint for an empty list", () => {
    render(<LoadState data={[]} error={null} loading="…" empty="No users yet." emptyHint="Add one.">{list}</LoadState>);
    expect(screen.getByText("No users yet.")).toBeInTheDocument();
    expect(screen.getByText("Add one.")).toBeInTheDocument();
    expect(screen.queryByRole("list")).toBeNull();
  });

  it("counts a page of no items as empty", () => {
    render(<LoadState data={{ items: [], total: 0 }} error={null} loading="…" empty="No entries.">{() => "shown"}</LoadState>);
    expect(screen.getByText("No entries.")).toBeInTheDocument();
    expect(screen.queryByText("shown")).toBeNull();
  });

  it("asks the page what counts as empty, and can say it quietly", () => {
    const { rerender } = render(
      <LoadState data={{ items: ["a"] }} error={null} loading="…" empty="Nothing." quietEmpty isEmpty={(page) => page.items[0] === "none"}>
        {(page) => list(page.items)}
      </LoadState>,
    );
    expect(screen.getByRole("list", { name: "Items" })).toHaveTextContent("a");
    rerender(
      <LoadState data={{ items: ["none"] }} error={null} loading="…" empty="Nothing." quietEmpty isEmpty={(page) => page.items[0] === "none"}>
        {(page) => list(page.items)}
      </LoadState>,
    );
    expect(screen.getByText("Nothing.").tagName).toBe("P");
    expect(screen.queryByRole("list")).toBeNull();
  });

  it("shows empty data as data when the page gives no empty sentence", () => {
    render(<LoadState data={[]} error={null} loading="…">{list}</LoadState>);
    expect(screen.getByRole("list", { name: "Items" })).toBeEmptyDOMElement();
  });
});
