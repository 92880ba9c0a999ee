import { useState } from "react";
import { fieldErrors, sentenceOf } from "../components/format";

/**
 * The server's refusal of a form: per-field sentences for a 422 (shown next to each field) and
 * the whole sentence for the rest (shown above the form).
 */
export function useFormErrors(fields: readonly string[]) {
  const [fieldsError, setFieldsError] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  return {
    field: (name: string) => fieldsError[name] ?? null,
    form: formError,
    clear() {
      setFieldsError({});
      setFormError(null);
    },
    take(failure: unknown, fallback: string) {
      const sentence = sentenceOf(failure, fallback);
      const status = failure && typeof failure === "object" && "status" in failure ? failure.status : 0;
      const found = status === 422 ? fieldErrors(sentence) : {};
      const known = Object.fromEntries(Object.entries(found).filter(([name]) => fields.includes(name)));
      setFieldsError(known);
      // Anything not tied to a field stays visible as the form's sentence.
      setFormError(Object.keys(known).length === Object.keys(found).length && Object.keys(known).length > 0 ? "Please correct the fields marked below." : sentence);
    },
  };
}
