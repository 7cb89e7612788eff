import { type FormEvent, useState } from 'react';
import type { z } from 'zod';
import { isApiError } from '@/api/errors';

/**
 * Form state validated with a zod schema before submitting; the server's answer is mapped
 * back: field messages from `error.details` under their fields, the message above the button.
 */
export function useZodForm<T extends Record<string, unknown>, O>(schema: z.ZodType<O, T>, initial: T) {
  const [values, setValues] = useState<T>(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);

  function set<K extends keyof T>(key: K, value: T[K]) {
    setValues((previous) => ({ ...previous, [key]: value }));
    setErrors((previous) => {
      if (!(String(key) in previous)) return previous;
      const { [String(key)]: _, ...rest } = previous;
      return rest;
    });
  }

  function handleSubmit(submit: (data: O) => Promise<unknown>) {
    return async (event: FormEvent) => {
      event.preventDefault();
      setFormError(null);
      const parsed = schema.safeParse(values);
      if (!parsed.success) {
        setErrors(issuesToFields(parsed.error.issues));
        return;
      }
      setErrors({});
      setSubmitting(true);
      try {
        await submit(parsed.data);
      } catch (error) {
        if (isApiError(error)) {
          const fields = error.fieldErrors();
          setErrors(fields);
          setFormError(error.message);
        } else {
          setFormError(error instanceof Error ? error.message : String(error));
        }
      } finally {
        setSubmitting(false);
      }
    };
  }

  return { values, set, setValues, errors, formError, setFormError, submitting, handleSubmit };
}

/** zod issues keyed by their dotted path (`greeting.en`), first message per field. */
export function issuesToFields(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>) {
  const fields: Record<string, string> = {};
  for (const issue of issues) {
    const key = issue.path.map(String).join('.') || '_';
    if (!(key in fields)) fields[key] = issue.message;
  }
  return fields;
}
