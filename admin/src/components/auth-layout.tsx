import type { ReactNode } from 'react';
import { Logo } from './logo';
import { PreferencesMenu } from './preferences-menu';

/** The centred card of the public pages (sign-in, setup, password reset, invitations). */
export function AuthLayout({
  title,
  description,
  children,
  footer,
}: {
  title: ReactNode;
  description?: ReactNode;
  children: ReactNode;
  footer?: ReactNode;
}) {
  return (
    <div className="relative flex min-h-screen flex-col items-center justify-center bg-[radial-gradient(ellipse_at_top,color-mix(in_oklch,var(--primary)_10%,transparent),transparent_60%)] px-4 py-12">
      <div className="absolute top-4 right-4">
        <PreferencesMenu />
      </div>
      <div className="mb-8">
        <Logo />
      </div>
      <main className="w-full max-w-[400px] rounded-2xl border bg-card p-7 shadow-xl shadow-black/5 sm:p-8">
        <h1 className="text-xl font-semibold tracking-tight">{title}</h1>
        {description && <p className="mt-1.5 text-sm text-muted-foreground">{description}</p>}
        <div className="mt-6">{children}</div>
      </main>
      {footer && <div className="mt-6 text-center text-sm text-muted-foreground">{footer}</div>}
    </div>
  );
}
