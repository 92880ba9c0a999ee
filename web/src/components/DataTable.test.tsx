import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { type Column, DataTable } from "./DataTable";

interface Part {
  id: number;
  name: string;
  size: number;
  held: boolean;
}

const PARTS: Part[] = [
  { id: 1, name: "op10.nc", size: 2048, held: true },
  { id: 2, name: "op20.nc", size: 10, held: false },
];

const COLUMNS: Column<Part>[] = [
  { header: "File", cell: (part) => part.name, title: (part) => `programs/${part.name}` },
  { header: "Size", cell: (part) => part.size, align: "right", width: "w-24" },
  { header: "Status", cell: (part) => (part.held ? "checked out" : "available"), className: (part) => (part.held ? "text-amber-700" : "text-emerald-700") },
  { header: "Actions", hideHeader: true, cell: (part) => <button type="button">{`Open ${part.name}`}</button> },
];

describe("DataTable", () => {
  it("is a named table with column headers and a row per item", () => {
    render(<DataTable caption="Vault files" columns={COLUMNS} rows={PARTS} rowKey={(part) => part.id} />);
    const table = screen.getByRole("table", { name: "Vault files" });
    const headers = within(table).getAllByRole("columnheader");
    expect(headers.map((header) => header.textContent)).toEqual(["File", "Size", "Status", "Actions"]);
    headers.forEach((header) => expect(header).toHaveAttribute("scope", "col"));
    expect(within(headers[3]!).getByText("Actions")).toHaveClass("sr-only");
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows.map((row) => row.textContent)).toEqual(["op10.nc2048checked outOpen op10.nc", "op20.nc10availableOpen op20.nc"]);
  });

  it("gives cells their alignment, width, classes by row and tooltip", () => {
    render(<DataTable caption="Vault files" columns={COLUMNS} rows={PARTS} rowKey={(part) => part.id} />);
    const held = screen.getByRole("row", { name: /op10\.nc/ });
    const [file, size, status] = within(held).getAllByRole("cell");
    expect(file).toHaveAttribute("title", "programs/op10.nc");
    expect(size).toHaveClass("text-right", "w-24");
    expect(status).toHaveClass("text-amber-700");
    expect(within(screen.getByRole("row", { name: /op20\.nc/ })).getAllByRole("cell")[2]).toHaveClass("text-emerald-700");
  });

  it("leaves out the columns a page does not show", () => {
    render(<DataTable columns={[COLUMNS[0], false, null]} rows={PARTS} rowKey={(part) => part.id} />);
    expect(screen.getAllByRole("columnheader")).toHaveLength(1);
  });

  it("says the empty sentence instead of an empty table", () => {
    render(<DataTable caption="Vault files" columns={COLUMNS} rows={[]} rowKey={(part) => part.id} empty="No files yet." />);
    expect(screen.queryByRole("table")).toBeNull();
    expect(screen.getByText("No files yet.")).toBeInTheDocument();
  });

  it("passes a row's own attributes and classes (a row moved with the keyboard)", async () => {
    const moved = vi.fn();
    render(
      <DataTable
        columns={COLUMNS}
        rows={PARTS}
        rowKey={(part) => part.id}
        rowClassName={(part) => (part.held ? "font-medium" : "")}
        rowProps={(part, index) => ({ tabIndex: 0, "aria-label": `${part.name}, place ${index + 1}`, onKeyDown: () => moved(part.id) })}
      />,
    );
    const second = screen.getByRole("row", { name: "op20.nc, place 2" });
    expect(screen.getByRole("row", { name: "op10.nc, place 1" })).toHaveClass("font-medium", "border-t");
    second.focus();
    await userEvent.setup().keyboard("{Alt>}{ArrowUp}{/Alt}");
    expect(moved).toHaveBeenCalledWith(2);
  });
});
