// The rules pages: the list (#/rules, in the nav) and the editor (#/rules/new, #/rules/<id>).
import { pageView } from '../page.tsx';
import type { PageRoute } from '../routes.ts';
import { RuleEditor } from './rule-editor.tsx';
import { RulesPage } from './rules-page.tsx';
import './rules.css';

export const rulesRoute: PageRoute = {
  pattern: /^#\/rules\/?$/,
  nav: { label: 'Rules', href: '#/rules' },
  mount: (app) => pageView(app, <RulesPage />),
};

export const ruleEditorRoute: PageRoute = {
  pattern: /^#\/rules\/([^/]+)$/,
  mount: (app, [id]) => pageView(app, <RuleEditor key={id} id={id === 'new' ? null : id!} />),
};
