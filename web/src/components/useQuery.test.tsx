import { act, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import { useQuery } from "./useQuery";

/** A read the test answers by hand, one promise per call. */
function manualRead() {
  const calls: { key: string; resolve: (value: string) => void; reject: (error: unknown) => void }[] = [];
  const read = (key: string) => () => new Promise<string>((resolve, reject) => calls.push({ key, resolve, reject }));
  return { calls, read };
}

function Reader({ read }: { read: (key: string) => () => Promise<string> }) {
  const [key, setKey] = useState("a");
  const query = useQuery(read(key), [key], "It could not be read.");
  return (
    <>
      <p>{`data: ${query.data ?? "none"}; error: ${query.error ?? "none"}${query.errorStatus === null ? "" : ` (${query.errorStatus})`}`}</p>
      <button type="button" onClick={() => setKey("b")}>Other</button>
      <button type="button" onClick={query.reload}>Reload</button>
      <button type="button" onClick={() => query.setData("set")}>Set</button>
    </>
  );
}

describe("useQuery", () => {
  it("reads once, again when its keys change, and drops the answer of a page that moved on", async () => {
    const { calls, read } = manualRead();
    const user = userEvent.setup();
    render(<Reader read={read} />);
    expect(calls.map((call) => call.key)).toEqual(["a"]);
    await user.click(screen.getByRole("button", { name: "Other" }));
    expect(calls.map((call) => call.key)).toEqual(["a", "b"]);
    await act(async () => calls[0]!.resolve("old"));
    expect(screen.getByText("data: none; error: none")).toBeInTheDocument();
    await act(async () => calls[1]!.resolve("new"));
    expect(screen.getByText("data: new; error: none")).toBeInTheDocument();
  });

  it("keeps the data on a refusal, says the server's sentence or the fallback, and clears it on the next answer", async () => {
    const { calls, read } = manualRead();
    const user = userEvent.setup();
    render(<Reader read={read} />);
    await act(async () => calls[0]!.resolve("first"));
    await user.click(screen.getByRole("button", { name: "Reload" }));
    await act(async () => calls[1]!.reject(new ApiError(503, "unavailable", "The database is away.")));
    expect(screen.getByText("data: first; error: The database is away. (503)")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Reload" }));
    await act(async () => calls[2]!.reject(new Error("network")));
    expect(screen.getByText("data: first; error: It could not be read. (0)")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Reload" }));
    await act(async () => calls[3]!.resolve("second"));
    expect(screen.getByText("data: second; error: none")).toBeInTheDocument();
  });

  it("lets the page change what is shown without reading again", async () => {
    const { calls, read } = manualRead();
    const user = userEvent.setup();
    render(<Reader read={read} />);
    await user.click(screen.getByRole("button", { name: "Set" }));
    expect(screen.getByText("data: set; error: none")).toBeInTheDocument();
    expect(calls).toHaveLength(1);
  });
});
