import { Link } from "react-router";
import { Notice, Page } from "../components/Page";

/** Any address the dashboard does not know, inside the shell. */
export function NotFoundPage() {
  return (
    <Page title="Page not found">
      <Notice title="There is no page at this address.">
        Use the navigation, or go to the <Link to="/queue" className="underline">merge queue</Link>.
      </Notice>
    </Page>
  );
}
