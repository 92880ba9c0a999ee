/**
 * A modal dialog: focus moves in and stays in (Tab cycles), Escape or the backdrop closes it,
 * focus returns to what opened it. It is an open <dialog> in a fixed layer rather than
 * `showModal()`: the browser's top layer would sit above the toasts, hiding the very sentences
 * (sent, refused) that answer what was done inside the dialog.
 */
import { type KeyboardEvent, type ReactNode, useEffect, useId, useRef } from "react";

export interface DialogProps {
  title: string;
  onClose: () => void;
  children: ReactNode;
  /** "panel" slides in from the right (the messages panel); "modal" sits in the middle. */
  placement?: "modal" | "panel";
  wide?: boolean;
}

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

export function Dialog({ title, onClose, children, placement = "modal", wide = false }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();

  useEffect(() => {
    const opener = document.activeElement;
    const dialog = ref.current;
    // The first field or action; the close button when there is nothing else to do.
    const first =
      dialog?.querySelector<HTMLElement>("input, textarea, select, button:not([data-close])") ??
      dialog?.querySelector<HTMLElement>("button[data-close]");
    first?.focus();
    return () => {
      if (opener instanceof HTMLElement) opener.focus();
    };
  }, []);

  function onKeyDown(event: KeyboardEvent) {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      onClose();
      return;
    }
    if (event.key !== "Tab" || !ref.current) return;
    const items = [...ref.current.querySelectorAll<HTMLElement>(FOCUSABLE)];
    const first = items[0];
    const last = items.at(-1);
    if (!first || !last) return;
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  }

  const frame =
    placement === "panel"
      ? "ml-auto h-full w-full max-w-md rounded-none"
      : `m-auto max-h-[90vh] w-full ${wide ? "max-w-4xl" : "max-w-lg"} rounded-lg`;
  return (
    <div className={`fixed inset-0 z-40 flex ${placement === "panel" ? "" : "items-center p-4"}`}>
      <div aria-hidden="true" className="absolute inset-0 bg-slate-900/40" onClick={onClose} />
      <dialog
        ref={ref}
        open
        aria-modal="true"
        aria-labelledby={titleId}
        onKeyDown={onKeyDown}
        className={`${frame} relative flex flex-col border border-slate-200 bg-white p-0 text-slate-900 shadow-xl dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100`}
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
        <div className="overflow-y-auto p-4">{children}</div>
      </dialog>
    </div>
  );
}
