import {
  createRootRoute,
  createRoute,
  createRouter,
  lazyRouteComponent,
  Outlet,
  useSearch,
} from '@tanstack/react-router';
import { AppShell, RequireAuth } from '@/components/app-shell';
import { NotFound } from '@/components/page';
import { useMe } from '@/lib/auth';
import { HOME_PATH, screens } from '@/screens';
import { FullPageSpinner } from './components/full-page-spinner';
import { Redirect } from './components/redirect';

/**
 * Code-based routes. Public pages (sign-in, setup, password reset, invitations) sit at the
 * root; everything else lives under `/w/$ws` inside the app shell, one lazy route per entry
 * of `screens/index.ts`.
 */
const rootRoute = createRootRoute({ component: Outlet, notFoundComponent: NotFound });

const publicPage = (path: string, load: () => Promise<{ default: React.ComponentType }>) =>
  createRoute({ getParentRoute: () => rootRoute, path, component: lazyRouteComponent(load) });

const signIn = publicPage('sign-in', () => import('@/screens/auth/sign-in-page'));
const setup = publicPage('setup', () => import('@/screens/auth/setup-page'));
const resetPassword = publicPage('reset-password', () => import('@/screens/auth/reset-password-page'));
const invitation = publicPage('invitations/$token', () => import('@/screens/auth/invitation-page'));

/** The invitation mail links to /invite?token=…: same page. */
const inviteLink = createRoute({
  getParentRoute: () => rootRoute,
  path: 'invite',
  component: function InviteRedirect() {
    const search: Record<string, unknown> = useSearch({ strict: false });
    const token = typeof search.token === 'string' ? search.token : '';
    return <Redirect to={`/invitations/${encodeURIComponent(token)}`} />;
  },
});

const home = createRoute({
  getParentRoute: () => rootRoute,
  path: '/',
  component: function Home() {
    return (
      <RequireAuth>
        <FirstWorkspace />
      </RequireAuth>
    );
  },
});

function FirstWorkspace() {
  const me = useMe();
  if (!me.data) return <FullPageSpinner />;
  const first = me.data.workspaces[0];
  return <Redirect to={first ? `/w/${first.id}/${HOME_PATH}` : '/setup'} />;
}

const workspace = createRoute({
  getParentRoute: () => rootRoute,
  path: 'w/$ws',
  component: function WorkspaceLayout() {
    return (
      <RequireAuth>
        <AppShell>
          <Outlet />
        </AppShell>
      </RequireAuth>
    );
  },
});

const workspaceIndex = createRoute({
  getParentRoute: () => workspace,
  path: '/',
  component: function WorkspaceHome() {
    const params = workspaceIndex.useParams();
    return <Redirect to={`/w/${params.ws}/${HOME_PATH}`} />;
  },
});

const screenRoutes = screens.map((screen) =>
  createRoute({
    getParentRoute: () => workspace,
    path: screen.path,
    component: lazyRouteComponent(screen.load),
  }),
);

const routeTree = rootRoute.addChildren([
  signIn,
  setup,
  resetPassword,
  invitation,
  inviteLink,
  home,
  workspace.addChildren([workspaceIndex, ...screenRoutes]),
]);

export const router = createRouter({
  routeTree,
  defaultPreload: 'intent',
  defaultPendingComponent: FullPageSpinner,
  defaultPendingMs: 300,
  scrollRestoration: true,
});
