import { useQuery } from '@tanstack/react-query';
import { Link, useNavigate, useSearch } from '@tanstack/react-router';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import { AuthLayout } from '@/components/auth-layout';
import { Redirect } from '@/components/redirect';
import { Button } from '@/components/ui/button';
import { Field, FormError, Input } from '@/components/ui/input';
import { useT } from '@/i18n';
import { useAuth } from '@/lib/auth';
import { useZodForm } from '@/lib/form';
import { signInSchema } from '@/schemas';

export default function SignInPage() {
  const t = useT();
  const { begin, status } = useAuth();
  const navigate = useNavigate();
  const search: Record<string, unknown> = useSearch({ strict: false });
  const redirect =
    typeof search.redirect === 'string' && search.redirect.startsWith('/') ? search.redirect : '/';
  const setup = useQuery({ queryKey: ['setup'], queryFn: () => unwrap(api.GET('/api/setup')) });
  const form = useZodForm(signInSchema, { email: '', password: '' });
  if (status === 'signedIn') return <Redirect to={redirect} />;
  return (
    <AuthLayout
      title={t('signIn.title')}
      description={t('signIn.description')}
      footer={setup.data?.needed && <span>{t('signIn.setupNeeded')}</span>}
    >
      <form
        className="grid gap-4"
        noValidate
        onSubmit={form.handleSubmit(async (data) => {
          begin(await unwrap(api.POST('/api/auth/login', { body: data })));
          await navigate({ to: redirect });
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
        <Field label={t('field.password')} error={form.errors.password}>
          {(props) => (
            <Input
              {...props}
              type="password"
              autoComplete="current-password"
              value={form.values.password}
              onChange={(event) => form.set('password', event.target.value)}
            />
          )}
        </Field>
        <div className="-mt-1 text-right">
          <Link to="/reset-password" className="text-sm text-primary hover:underline">
            {t('signIn.forgot')}
          </Link>
        </div>
        <FormError message={form.formError} />
        <Button type="submit" size="lg" loading={form.submitting}>
          {t('signIn.submit')}
        </Button>
      </form>
    </AuthLayout>
  );
}
