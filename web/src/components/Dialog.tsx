/** A modal dialog on the native <dialog>: focus moves in, Escape closes, focus comes back. */
import { type ReactNode, useEffect, useId, useRef } from "react";

export interface DialogProps {
  title: string;
  onClose: () => void;
  children: ReactNode;
  /** "panel" slides in from the right (the messages panel); "modal" sits in the middle. */
  placement?: "modal" | "panel";
  wide?: boolean;
}

export function Dialog({ title, onClose, children, placement = "modal", wide = false }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const opener = useRef<Element | null>(null);

  useEffect(() => {
    opener.current = document.activeElement;
    const dialog = ref.current;
    if (dialog && !dialog.open) {
      // happy-dom and old browsers may lack showModal: an open dialog still works.
      if (typeof dialog.showModal === "function") dialog.showModal();
      else dialog.setAttribute("open", "");
    }
    // The first field or action; the close button when there is nothing else to do.
    const first =
      dialog?.querySelector<HTMLElement>("input, textarea, select, button:not([data-close])") ??
      dialog?.querySelector<HTMLElement>("button[data-close]");
    first?.focus();
    return () => {
      if (opener.current instanceof HTMLElement) opener.current.focus();
    };
  }, []);

  const frame =
    placement === "panel"
      ? "m-0 ml-auto h-full max-h-full w-full max-w-md rounded-none"
      : `m-auto w-full ${wide ? "max-w-4xl" : "max-w-lg"} rounded-lg`;
  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
      onKeyDown={(event) => {
        if (event.key === "Escape") {
          event.preventDefault();
          onClose();
        }
      }}
      className={`${frame} border border-slate-200 bg-white p-0 text-slate-900 shadow-xl backdrop:bg-slate-900/40 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100`}
    >
      <div className="flex items-center gap-2 border-b border-slate-200 px-4 py-3 dark:border-slate-800">
        <h2 id={titleId} className="text-lg font-semibold">
          {title}
        </h2>
        <button
          type="button"
          data-close
          aria-label="Close"
          onClick={onClose}
          className="ml-auto rounded px-2 text-xl text-slate-500 hover:text-slate-900 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:hover:text-white"
        >
          <span aria-hidden="true">×</span>
        </button>
      </div>
      <div className="max-h-[80vh] overflow-y-auto p-4">{children}</div>
    </dialog>
  );
}
