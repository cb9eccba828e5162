import type { Ui } from '../../src/routes/context';
import { Layout } from '../layout';

export function ErrorPage(props: { ui: Ui; message: string; requestId: string }) {
  const { ui } = props;
  return (
    <Layout ui={ui} title={ui.t('error.title')}>
      <h1>{ui.t('error.title')}</h1>
      <p class="error" role="alert">{props.message}</p>
      <p class="muted">{ui.t('error.reference', { requestId: props.requestId })}</p>
      <p><a href={ui.staff ? '/staff' : '/'}>{ui.t('error.goHome')}</a></p>
    </Layout>
  );
}
