import { Link, useLocation, useNavigate } from '@tanstack/react-router';
import { Check, ChevronsUpDown, LogOut, Menu, Plus } from 'lucide-react';
import { Dialog } from 'radix-ui';
import { type ReactNode, useState } from 'react';
import { useT } from '@/i18n';
import type { MessageKey } from '@/i18n/en';
import { hasRole, useAuth, useMe } from '@/lib/auth';
import { cn } from '@/lib/cn';
import { useWorkspace } from '@/lib/workspace';
import { type NavGroup, screens } from '@/screens';
import { CreateWorkspaceDialog } from './create-workspace-dialog';
import { FullPageSpinner } from './full-page-spinner';
import { Logo } from './logo';
import { PreferenceItems } from './preferences-menu';
import { Redirect } from './redirect';
import { Badge } from './ui/badge';
import { Button } from './ui/button';
import {
  Dropdown,
  DropdownContent,
  DropdownItem,
  DropdownLabel,
  DropdownSeparator,
  DropdownTrigger,
} from './ui/dropdown';

/** Sends signed-out visitors to the sign-in page, back here after. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const { status } = useAuth();
  const location = useLocation();
  if (status === 'loading') return <FullPageSpinner />;
  if (status === 'signedOut') return <Redirect to="/sign-in" search={{ redirect: location.href }} />;
  return children;
}

const GROUPS: Array<{ id: NavGroup; label: MessageKey }> = [
  { id: 'operate', label: 'nav.group.operate' },
  { id: 'build', label: 'nav.group.build' },
  { id: 'manage', label: 'nav.group.manage' },
];

/** Sidebar (a drawer below `lg`), top bar with the workspace switcher and the user menu. */
export function AppShell({ children }: { children: ReactNode }) {
  const t = useT();
  const me = useMe();
  const { ws, workspace } = useWorkspace();
  const [drawer, setDrawer] = useState(false);
  if (!me.data) return <FullPageSpinner />;
  if (!workspace && !me.data.user.isSuperAdmin) {
    const first = me.data.workspaces[0];
    return <Redirect to={first ? `/w/${first.id}` : '/setup'} />;
  }
  return (
    <div className="min-h-screen bg-background lg:grid lg:grid-cols-[260px_1fr]">
      <aside className="sticky top-0 hidden h-screen border-r bg-sidebar lg:block">
        <Sidebar ws={ws} />
      </aside>
      <Dialog.Root open={drawer} onOpenChange={setDrawer}>
        <Dialog.Portal>
          <Dialog.Overlay className="fixed inset-0 z-40 bg-black/40 animate-[sb-fade-in_120ms_ease-out] lg:hidden" />
          <Dialog.Content className="fixed inset-y-0 left-0 z-50 w-[280px] max-w-[85vw] border-r bg-sidebar shadow-2xl animate-[sb-slide-in_160ms_ease-out] lg:hidden">
            <Dialog.Title className="sr-only">{t('nav.menu')}</Dialog.Title>
            <Dialog.Description className="sr-only">{t('nav.menu')}</Dialog.Description>
            <Sidebar ws={ws} onNavigate={() => setDrawer(false)} />
          </Dialog.Content>
        </Dialog.Portal>
      </Dialog.Root>
      <div className="flex min-w-0 flex-col">
        <header className="sticky top-0 z-30 flex h-14 items-center gap-2 border-b bg-background/85 px-3 backdrop-blur sm:px-6">
          <Button
            variant="ghost"
            size="icon"
            className="lg:hidden"
            aria-label={t('nav.menu')}
            onClick={() => setDrawer(true)}
          >
            <Menu />
          </Button>
          <WorkspaceSwitcher />
          <div className="ml-auto flex items-center gap-1">
            <UserMenu />
          </div>
        </header>
        <main className="mx-auto w-full max-w-6xl flex-1 px-4 py-6 sm:px-6 lg:px-8 lg:py-8">{children}</main>
      </div>
    </div>
  );
}

function Sidebar({ ws, onNavigate }: { ws: string; onNavigate?: () => void }) {
  const t = useT();
  const { role } = useWorkspace();
  return (
    <nav aria-label={t('nav.main')} className="flex h-full flex-col">
      <div className="flex h-14 items-center border-b px-5">
        <Link to={`/w/${ws}`} onClick={onNavigate}>
          <Logo />
        </Link>
      </div>
      <div className="flex-1 overflow-y-auto px-3 py-4">
        {GROUPS.map((group) => {
          const items = screens.filter(
            (screen) =>
              screen.nav?.group === group.id && (!screen.nav.minRole || hasRole(role, screen.nav.minRole)),
          );
          if (items.length === 0) return null;
          return (
            <div key={group.id} className="mb-5">
              <p className="mb-1.5 px-2.5 text-[11px] font-semibold tracking-wider text-muted-foreground/80 uppercase">
                {t(group.label)}
              </p>
              <ul className="grid gap-0.5">
                {items.map((screen) => {
                  if (!screen.nav) return null;
                  const Icon = screen.nav.icon;
                  return (
                    <li key={screen.path}>
                      <Link
                        to={`/w/${ws}/${screen.path}`}
                        onClick={onNavigate}
                        className="flex items-center gap-2.5 rounded-md px-2.5 py-1.5 text-sm font-medium text-muted-foreground transition-colors hover:bg-muted hover:text-foreground data-[status=active]:bg-primary/10 data-[status=active]:text-primary"
                      >
                        <Icon className="size-4 shrink-0" aria-hidden="true" />
                        {t(screen.nav.label)}
                      </Link>
                    </li>
                  );
                })}
              </ul>
            </div>
          );
        })}
      </div>
    </nav>
  );
}

function WorkspaceSwitcher() {
  const t = useT();
  const me = useMe();
  const { workspace, role } = useWorkspace();
  const navigate = useNavigate();
  const [creating, setCreating] = useState(false);
  return (
    <>
      <Dropdown>
        <DropdownTrigger asChild>
          <button
            type="button"
            className="flex min-w-0 items-center gap-2 rounded-md px-2 py-1.5 text-sm font-medium hover:bg-muted"
            aria-label={t('workspace.switch')}
          >
            <span className="flex size-6 shrink-0 items-center justify-center rounded-md bg-gradient-to-br from-primary to-primary/70 text-[11px] font-semibold text-primary-foreground">
              {(workspace?.name ?? '?').slice(0, 1).toUpperCase()}
            </span>
            <span className="truncate">{workspace?.name ?? t('workspace.none')}</span>
            {role && <Badge className="hidden sm:inline-flex">{t(`role.${roleKey(role)}`)}</Badge>}
            <ChevronsUpDown className="size-4 shrink-0 text-muted-foreground" />
          </button>
        </DropdownTrigger>
        <DropdownContent align="start" className="w-64">
          <DropdownLabel>{t('workspace.title')}</DropdownLabel>
          {me.data?.workspaces.map((item) => (
            <DropdownItem key={item.id} onSelect={() => navigate({ to: `/w/${item.id}` })}>
              <span className="flex-1 truncate">{item.name}</span>
              {item.id === workspace?.id && <Check className="!text-primary" />}
            </DropdownItem>
          ))}
          <DropdownSeparator />
          <DropdownItem onSelect={() => setCreating(true)}>
            <Plus /> {t('workspace.create')}
          </DropdownItem>
        </DropdownContent>
      </Dropdown>
      <CreateWorkspaceDialog open={creating} onOpenChange={setCreating} />
    </>
  );
}

export function roleKey(role: string): 'owner' | 'admin' | 'operator' | 'viewer' {
  return role === 'owner' || role === 'admin' || role === 'operator' ? role : 'viewer';
}

function UserMenu() {
  const t = useT();
  const me = useMe();
  const { signOut } = useAuth();
  const navigate = useNavigate();
  const user = me.data?.user;
  const initials = (user?.name || user?.email || '?')
    .split(/[\s@.]+/)
    .slice(0, 2)
    .map((part) => part.slice(0, 1).toUpperCase())
    .join('');
  return (
    <Dropdown>
      <DropdownTrigger asChild>
        <button
          type="button"
          className="flex items-center gap-2 rounded-full p-0.5 hover:bg-muted"
          aria-label={t('user.menu')}
        >
          <span
            className={cn(
              'flex size-8 items-center justify-center rounded-full bg-secondary text-xs font-semibold text-secondary-foreground ring-1 ring-border',
            )}
          >
            {initials}
          </span>
        </button>
      </DropdownTrigger>
      <DropdownContent className="w-60">
        <div className="px-2 py-2">
          <p className="truncate text-sm font-medium">{user?.name || user?.email}</p>
          {user?.name && <p className="truncate text-xs text-muted-foreground">{user.email}</p>}
        </div>
        <DropdownSeparator />
        <PreferenceItems />
        <DropdownSeparator />
        <DropdownItem
          onSelect={async () => {
            await signOut();
            await navigate({ to: '/sign-in' });
          }}
        >
          <LogOut /> {t('user.signOut')}
        </DropdownItem>
      </DropdownContent>
    </Dropdown>
  );
}
