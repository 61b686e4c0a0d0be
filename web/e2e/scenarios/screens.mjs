// The remaining main screens: sign-in on a phone, the secretariat's desk, a refused classified upload showing
// the API's Vietnamese `detail`, and axe on every screen the secretariat reaches at tablet and phone sizes.
import { assert, axe, go, newContext, seedFile, shot, signIn, SECRETARIAT, WEB_URL } from '../lib.mjs';

export async function screensScenario(browser, cast, state, step) {
  step('sign-in screen on a phone');
  const phone = await newContext(browser, 'phone', 'sign-in');
  await phone.page.goto(`${WEB_URL}/`);
  await phone.page.getByLabel('Mã người dùng').waitFor();
  await axe(phone.page, 'sign-in-phone');
  await shot(phone.page, 'sign-in-phone');
  step('an unknown user gets the API detail, not a blank screen');
  await phone.page.getByLabel('Mã người dùng').fill('khong-ton-tai');
  await phone.page.getByRole('button', { name: 'Đăng nhập', exact: true }).click();
  await phone.page.getByRole('alert').waitFor();
  await phone.context.close();

  step("secretariat's desk and a classified upload refused with the API's Vietnamese detail");
  const sec = await newContext(browser, 'tablet', 'secretariat');
  await signIn(sec.page, SECRETARIAT, '/secretariat');
  await sec.page.getByRole('heading', { name: 'Phiếu lấy ý kiến' }).waitFor();
  await axe(sec.page, 'secretariat-home');
  await shot(sec.page, 'secretariat-home-tablet');
  await go(sec.page, '/secretariat/documents');
  await sec.page.getByLabel('Tệp hồ sơ').setInputFiles(await seedFile(browser, 'tai-lieu-mat.pdf'));
  await sec.page.getByLabel('Độ mật').selectOption('mat');
  await sec.page.getByRole('button', { name: 'Tải hồ sơ lên' }).click();
  const alert = sec.page.getByRole('alert');
  await alert.waitFor();
  const text = (await alert.textContent()).trim();
  assert(/[à-ỹÀ-Ỹ]/.test(text), `refusal is not the API's Vietnamese detail: "${text}"`);
  await axe(sec.page, 'upload-refused');
  await shot(sec.page, 'secretariat-upload-classified-refused');

  step("every screen of the secretariat's passes axe at tablet and phone sizes");
  const screens = ['/', '/secretariat', '/secretariat/ballots/new', '/secretariat/meetings/new',
    '/secretariat/documents', '/resolutions', '/reports', '/exchange', ...(state.ballotPath ? [state.ballotPath] : [])];
  for (const [width, height, size] of [[1024, 768, 'tablet'], [390, 844, 'phone']]) {
    await sec.page.setViewportSize({ width, height });
    for (const screen of screens) {
      await go(sec.page, '/'); // from the same place each time, so every screen mounts afresh
      await go(sec.page, screen);
      await sec.page.locator('h1').first().waitFor();
      await sec.page.waitForFunction(() => !document.querySelector('.loading, [aria-busy="true"]'));
      await axe(sec.page, `${screen} (${size})`);
    }
  }
  await sec.context.close();
}
