import { useState } from "react";
import { Dialog } from "../components/Dialog";
import { MessagesPanel } from "./MessagesPanel";
import { useUnread } from "./UnreadContext";

/** The header's envelope with the unread badge; opens the messages in a slide-in panel. */
export function MessagesButton() {
  const { count } = useUnread();
  const [open, setOpen] = useState(false);
  const label = count > 0 ? `Messages, ${count} unread` : "Messages";
  return (
    <>
      <button
        type="button"
        aria-label={label}
        title={label}
        aria-haspopup="dialog"
        onClick={() => setOpen(true)}
        className="relative rounded-md p-2 text-slate-600 hover:bg-slate-200 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-slate-300 dark:hover:bg-slate-800"
      >
        <span aria-hidden="true">✉</span>
        {count > 0 ? (
          <span
            aria-hidden="true"
            data-testid="unread-badge"
            className="absolute -top-0.5 -right-0.5 min-w-4 rounded-full bg-red-600 px-1 text-center text-[10px] leading-4 font-semibold text-white"
          >
            {count > 99 ? "99+" : count}
          </span>
        ) : null}
      </button>
      {open ? (
        <Dialog title="Messages" placement="panel" onClose={() => setOpen(false)}>
          <MessagesPanel compact />
        </Dialog>
      ) : null}
    </>
  );
}
