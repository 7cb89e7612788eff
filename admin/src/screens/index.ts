import {
  AlertTriangle,
  BarChart3,
  BookOpen,
  Bot,
  Inbox,
  KeyRound,
  type LucideIcon,
  MessagesSquare,
  ScrollText,
  Settings,
  ShoppingBag,
  Users,
} from 'lucide-react';
import type { ComponentType } from 'react';
import type { MessageKey } from '@/i18n/en';
import type { Role } from '@/lib/auth';

/**
 * Every screen of the signed-in panel, in nav order. A screen is a file under `screens/`
 * whose default export is the page component, loaded lazily (its own chunk); the router
 * mounts each entry at `/w/$ws/<path>` and the sidebar lists the entries that have `nav`.
 * See admin/README.md, "Adding a screen".
 */
export interface ScreenEntry {
  /** Path under `/w/$ws/`, TanStack Router syntax (`bots/$bot`). */
  path: string;
  load: () => Promise<{ default: ComponentType }>;
  nav?: {
    label: MessageKey;
    icon: LucideIcon;
    group: NavGroup;
    /** Hidden from roles below this one (the API refuses them anyway). */
    minRole?: Role;
  };
}

export type NavGroup = 'operate' | 'build' | 'manage';

export const screens: ScreenEntry[] = [
  {
    path: 'dashboard',
    load: () => import('./dashboard/dashboard-page'),
    nav: { label: 'nav.dashboard', icon: BarChart3, group: 'operate' },
  },
  {
    path: 'inbox',
    load: () => import('./inbox/inbox-page'),
    nav: { label: 'nav.inbox', icon: Inbox, group: 'operate', minRole: 'operator' },
  },
  {
    path: 'escalations',
    load: () => import('./escalations/escalations-page'),
    nav: { label: 'nav.escalations', icon: AlertTriangle, group: 'operate', minRole: 'operator' },
  },
  {
    path: 'conversations',
    load: () => import('./conversations/conversations-page'),
    nav: { label: 'nav.conversations', icon: MessagesSquare, group: 'operate' },
  },
  {
    path: 'bots',
    load: () => import('./bots/bots-page'),
    nav: { label: 'nav.bots', icon: Bot, group: 'build' },
  },
  { path: 'bots/$bot', load: () => import('./bots/bot-page') },
  {
    path: 'knowledge',
    load: () => import('./knowledge/knowledge-page'),
    nav: { label: 'nav.knowledge', icon: BookOpen, group: 'build' },
  },
  {
    path: 'products',
    load: () => import('./products/products-page'),
    nav: { label: 'nav.products', icon: ShoppingBag, group: 'build' },
  },
  {
    path: 'members',
    load: () => import('./members/members-page'),
    nav: { label: 'nav.members', icon: Users, group: 'manage' },
  },
  {
    path: 'api-keys',
    load: () => import('./api-keys/api-keys-page'),
    nav: { label: 'nav.apiKeys', icon: KeyRound, group: 'manage', minRole: 'admin' },
  },
  {
    path: 'audit',
    load: () => import('./audit/audit-page'),
    nav: { label: 'nav.audit', icon: ScrollText, group: 'manage', minRole: 'admin' },
  },
  {
    path: 'settings',
    load: () => import('./settings/settings-page'),
    nav: { label: 'nav.settings', icon: Settings, group: 'manage' },
  },
];

/** Where `/` and a workspace's root lead. */
export const HOME_PATH = 'bots';
