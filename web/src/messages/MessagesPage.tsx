import { Page } from "../components/Page";
import { MessagesPanel } from "./MessagesPanel";

/** `/messages`: the same inbox as the header's panel, with room to read. */
export function MessagesPage() {
  return (
    <Page title="Messages">
      <MessagesPanel />
    </Page>
  );
}
