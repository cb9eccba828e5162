import type { Ui } from '../../../src/routes/context';
import { Layout } from '../../layout';

export function PublicHomePage(props: { ui: Ui }) {
  const { ui } = props;
  return (
    <Layout ui={ui} title={ui.t('public.title', { foundation: ui.foundation })}>
      <h1>{ui.t('public.title', { foundation: ui.foundation })}</h1>
      <p>{ui.t('app.tagline')}</p>
      <p class="langs">
        <a href="?lang=en" hreflang="en">English</a>
        <a href="?lang=fr" hreflang="fr">Français</a>
      </p>
      <p><a href="/login">{ui.t('public.staffLogin')}</a></p>
    </Layout>
  );
}
