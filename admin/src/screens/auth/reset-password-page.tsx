import { Link, useNavigate, useSearch } from '@tanstack/react-router';
import { MailCheck } from 'lucide-react';
import { useState } from 'react';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import { AuthLayout } from '@/components/auth-layout';
import { Button } from '@/components/ui/button';
import { Field, FormError, Input } from '@/components/ui/input';
import { toast } from '@/components/ui/toast';
import { useT } from '@/i18n';
import { useZodForm } from '@/lib/form';
import { resetConfirmSchema, resetRequestSchema } from '@/schemas';

/** Without `?token`: ask for the mail. With it (the mailed link): set the new password. */
export default function ResetPasswordPage() {
  const search: Record<string, unknown> = useSearch({ strict: false });
  const token = typeof search.token === 'string' ? search.token : '';
  return token ? <ConfirmReset token={token} /> : <RequestReset />;
}

function RequestReset() {
  const t = useT();
  const [sentTo, setSentTo] = useState<string | null>(null);
  const form = useZodForm(resetRequestSchema, { email: '' });
  const back = (
    <Link to="/sign-in" className="text-primary hover:underline">
      {t('reset.back')}
    </Link>
  );
  if (sentTo) {
    return (
      <AuthLayout title={t('reset.sentTitle')} footer={back}>
        <div className="flex gap-3 text-sm text-muted-foreground">
          <MailCheck className="size-5 shrink-0 text-primary" />
          <p>{t('reset.sent', { email: sentTo })}</p>
        </div>
      </AuthLayout>
    );
  }
  return (
    <AuthLayout title={t('reset.title')} description={t('reset.description')} footer={back}>
      <form
        className="grid gap-4"
        noValidate
        onSubmit={form.handleSubmit(async (data) => {
          await unwrap(api.POST('/api/auth/password-reset', { body: data }));
          setSentTo(data.email);
        })}
      >
        <Field label={t('field.email')} error={form.errors.email}>
          {(props) => (
            <Input
              {...props}
              type="email"
              autoComplete="email"
              autoFocus
              value={form.values.email}
              onChange={(event) => form.set('email', event.target.value)}
            />
          )}
        </Field>
        <FormError message={form.formError} />
        <Button type="submit" size="lg" loading={form.submitting}>
          {t('reset.submit')}
        </Button>
      </form>
    </AuthLayout>
  );
}

function ConfirmReset({ token }: { token: string }) {
  const t = useT();
  const navigate = useNavigate();
  const form = useZodForm(resetConfirmSchema, { password: '' });
  return (
    <AuthLayout title={t('reset.newTitle')} description={t('reset.newDescription')}>
      <form
        className="grid gap-4"
        noValidate
        onSubmit={form.handleSubmit(async (data) => {
          await unwrap(
            api.POST('/api/auth/password-reset/confirm', { body: { token, password: data.password } }),
          );
          toast.success(t('reset.changed'));
          await navigate({ to: '/sign-in' });
        })}
      >
        <Field label={t('field.newPassword')} hint={t('field.passwordHint')} error={form.errors.password}>
          {(props) => (
            <Input
              {...props}
              type="password"
              autoComplete="new-password"
              autoFocus
              value={form.values.password}
              onChange={(event) => form.set('password', event.target.value)}
            />
          )}
        </Field>
        <FormError message={form.formError} />
        <Button type="submit" size="lg" loading={form.submitting}>
          {t('reset.confirm')}
        </Button>
      </form>
    </AuthLayout>
  );
}
