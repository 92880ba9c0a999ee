/** The shapes of `/api/messages` (src/merge_assist/messaging/schemas.py). */

export interface Message {
  id: number;
  subject: string;
  body: string;
  sender: { kind: "user" | "system"; id: number | null; username: string | null; display_name: string };
  to: "all" | string[];
  is_broadcast: boolean;
  related_file: string | null;
  related_mr: string | null;
  created_at: string;
  /** null for messages the caller only sent. */
  read: boolean | null;
  read_at: string | null;
  sent_by_me: boolean;
}

export interface MessagePage {
  items: Message[];
  total: number;
  limit: number;
  offset: number;
}

export interface MessageDraft {
  to: string | string[];
  subject: string;
  body: string;
  related_file?: string;
  related_mr?: string;
}

/** The live events of messaging; each carries the receiver's `unread_count`. */
export const MESSAGE_EVENTS = ["message.new", "message.read", "message.deleted"] as const;

export const MAX_SUBJECT = 200;
export const MAX_BODY = 5000;

/** "all", one username, or several separated by commas or spaces. */
export function parseRecipients(text: string): string | string[] {
  const names = text
    .split(/[\s,;]+/)
    .map((name) => name.trim())
    .filter(Boolean);
  if (names.length === 1 && names[0]?.toLowerCase() === "all") return "all";
  return names.length === 1 ? (names[0] ?? "") : names;
}
