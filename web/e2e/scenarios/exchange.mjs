// Exchange between bodies: a dossier a province sent arrives in the Government secretariat's inbox, with a
// badge in the navigation; acknowledging it changes its state. (The dossier is sent by the test's setup.)
import { axe, go, newContext, shot, signIn, SECRETARIAT } from '../lib.mjs';

export const DOSSIER_TITLE = 'Tờ trình của Ủy ban nhân dân thành phố Hà Nội';

export async function exchangeScenario(browser, cast, state, step) {
  step('the secretariat finds the province dossier in the inbox, with a badge for it');
  const sec = await newContext(browser, 'tablet', 'exchange');
  await signIn(sec.page, SECRETARIAT, '/exchange');
  const entry = sec.page.getByTestId('inbox-entry').filter({ hasText: DOSSIER_TITLE });
  // The list as loaded (the dossier, or the empty register while the queue's consumer beside the API has not yet
  // delivered it): counted only once the screen has read the inbox, not while it shows "loading".
  const loaded = () => sec.page.getByTestId('inbox-entry')
    .or(sec.page.getByText('Chưa có văn bản đến.', { exact: true })).first().waitFor();
  await loaded();
  for (let i = 0; i < 30 && !(await entry.count()); i++) {
    await sec.page.waitForTimeout(1000);
    await go(sec.page, '/');
    await go(sec.page, '/exchange');
    await loaded();
  }
  await entry.first().waitFor();
  await sec.page.getByTestId('inbox-badge').waitFor(); // the navigation counts it as new
  await axe(sec.page, 'exchange-inbox');
  await shot(sec.page, 'exchange-inbox-tablet');
  step('acknowledging it shows it as taken in');
  await entry.first().getByRole('button', { name: 'Tiếp nhận' }).click();
  await entry.first().getByText('Đã tiếp nhận', { exact: true }).waitFor();
  step('the outbox tab and the dossier form render accessibly');
  await sec.page.getByRole('tab', { name: 'Gửi hồ sơ' }).click();
  await sec.page.getByLabel('Cơ quan nhận').waitFor();
  // The child bodies are offered by name once the partners are loaded.
  await sec.page.locator('#send-to option', { hasText: 'Hà Nội' }).waitFor({ state: 'attached' });
  await axe(sec.page, 'exchange-send');
  await sec.context.close();
}
