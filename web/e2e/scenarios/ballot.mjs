// A member answers an opinion ballot with a browser-made signature; the secretariat follows and aggregates.
import {
  SECRETARIAT, TIMEOUT, WEB_URL, assert, axe, confirm, go, newContext, seedFile, shot, signIn,
} from '../lib.mjs';

export async function ballotScenario(browser, cast, state, step) {
  const member = cast.plain[0];
  assert(member, 'the roster has no plain member');

  // Secretariat on a desktop: upload the dossier, draft the ballot, submit it.
  const sec = await newContext(browser, 'desktop', 'secretariat');
  step('secretariat drafts a ballot with a dossier');
  await signIn(sec.page, SECRETARIAT, '/secretariat/ballots/new');
  await sec.page.getByLabel('Tệp hồ sơ').setInputFiles(await seedFile(browser, 'to-trinh-du-an-luat.pdf'));
  await sec.page.getByLabel('Tên tài liệu').fill('Tờ trình dự án Luật (dự thảo)');
  await sec.page.getByRole('button', { name: 'Tải hồ sơ lên' }).click();
  await sec.page.getByTestId('uploaded-doc').waitFor({ timeout: 3 * TIMEOUT }); // verified by the queue consumer
  await sec.page.getByLabel('Tên phiếu').fill('Phiếu lấy ý kiến về dự án Luật sửa đổi, bổ sung một số điều');
  await sec.page.getByLabel('Tóm tắt nội dung').fill('Bộ chủ trì đề nghị Chính phủ cho ý kiến về hai vấn đề còn ý kiến khác nhau.');
  await sec.page.getByRole('textbox', { name: 'Câu 1' }).fill('Đồng ý thông qua hồ sơ dự án Luật để trình Quốc hội?');
  await sec.page.getByRole('button', { name: '+ Thêm câu hỏi' }).click();
  await sec.page.getByRole('textbox', { name: 'Câu 2' }).fill('Đồng ý phương án 1 về phạm vi điều chỉnh?');
  await axe(sec.page, 'ballot-form');
  await shot(sec.page, 'secretariat-ballot-form');
  await sec.page.getByRole('button', { name: 'Lưu dự thảo phiếu' }).click();
  await sec.page.waitForURL((u) => /^\/ballots\/[^/]+$/.test(u.pathname));
  const ballotPath = new URL(sec.page.url()).pathname;
  state.ballotPath = ballotPath;
  await sec.page.getByRole('button', { name: 'Trình phê duyệt' }).click();
  await confirm(sec.page, 'Xác nhận trình');
  await sec.page.getByText('Chờ phê duyệt').first().waitFor();

  step('chair returns it with a reason; the secretariat edits the draft and submits it again');
  const chair = await newContext(browser, 'tablet', 'chair');
  await signIn(chair.page, cast.chair.user_id, ballotPath);
  await chair.page.getByRole('button', { name: 'Trả lại để chỉnh sửa' }).click();
  await chair.page.getByLabel('Lý do trả lại').fill('Bổ sung phương án 2 vào câu hỏi thứ hai.');
  await axe(chair.page, 'ballot-return-dialog');
  await confirm(chair.page, 'Xác nhận trả lại');
  await chair.page.getByText('Bổ sung phương án 2 vào câu hỏi thứ hai.').waitFor();
  await go(sec.page, '/secretariat');
  await go(sec.page, ballotPath);
  await sec.page.getByText('Bổ sung phương án 2 vào câu hỏi thứ hai.').waitFor();
  await sec.page.getByRole('link', { name: 'Sửa dự thảo phiếu' }).click();
  await sec.page.getByRole('textbox', { name: 'Câu 2' }).fill('Đồng ý phương án 1 hay phương án 2 về phạm vi điều chỉnh?');
  await axe(sec.page, 'ballot-edit');
  await sec.page.getByRole('button', { name: 'Lưu thay đổi' }).click();
  await sec.page.waitForURL((u) => u.pathname === ballotPath);
  await sec.page.getByText('phương án 1 hay phương án 2').waitFor();
  await sec.page.getByRole('button', { name: 'Trình phê duyệt' }).click();
  await confirm(sec.page, 'Xác nhận trình');
  await sec.page.getByText('Chờ phê duyệt').first().waitFor();

  step('chair approves the ballot on a tablet');
  await go(chair.page, '/');
  await go(chair.page, ballotPath);
  await chair.page.getByRole('button', { name: 'Phê duyệt gửi phiếu' }).click();
  await confirm(chair.page, 'Xác nhận phê duyệt');
  await chair.page.getByText('Đã phê duyệt').first().waitFor();
  await chair.context.close();

  step('secretariat sends it after confirming');
  await go(sec.page, '/secretariat');
  await go(sec.page, ballotPath);
  await sec.page.getByRole('button', { name: 'Gửi phiếu tới thành viên' }).click();
  await sec.page.getByRole('dialog').getByText('không thu hồi được').waitFor();
  await confirm(sec.page, 'Xác nhận gửi phiếu');
  await sec.page.getByText('Đang lấy ý kiến').first().waitFor();

  step('member finds it in "my work" on a phone, reads the dossier, answers, signs and gets a receipt');
  const mem = await newContext(browser, 'phone', 'member');
  await signIn(mem.page, member.user_id);
  await mem.page.getByRole('heading', { name: /Phiếu lấy ý kiến chờ trả lời/ }).waitFor();
  await axe(mem.page, 'my-work');
  await shot(mem.page, 'member-my-work-phone');
  await mem.page.locator(`a[href="${ballotPath}"]`).click();
  await mem.page.waitForURL((u) => u.pathname === ballotPath);
  await mem.page.getByRole('button', { name: 'Xem tài liệu' }).first().click();
  // The dossier's bytes were fetched through the audited short-lived link and match the registered SHA-256.
  await mem.page.getByTestId('doc-verified').waitFor();
  const choices = mem.page.locator('fieldset.question');
  await choices.nth(0).getByLabel('Đồng ý', { exact: true }).check();
  await choices.nth(1).getByLabel('Ý kiến khác').check();
  await choices.nth(1).getByLabel(/Ý kiến cụ thể/).fill('Đề nghị làm rõ phạm vi đối với chính quyền cấp xã — “Điều 2”.');
  await axe(mem.page, 'ballot-answer');
  await shot(mem.page, 'member-ballot-answer-phone');
  await mem.page.getByRole('button', { name: 'Ký số và gửi ý kiến' }).click();
  await mem.page.getByRole('dialog').waitFor();
  await shot(mem.page, 'member-ballot-confirm-phone');
  await mem.page.getByRole('button', { name: 'Ký và gửi' }).click();
  const receipt = mem.page.getByTestId('receipt');
  await receipt.waitFor();
  const hash = (await receipt.textContent()).trim();
  assert(hash.length >= 16, `receipt hash missing: "${hash}"`);
  await shot(mem.page, 'member-ballot-receipt-phone');
  assert((await mem.page.getByRole('button', { name: 'Ký số và gửi ý kiến' }).count()) === 0, 'answer form still offered');

  step('the answered ballot has left "my work"');
  await go(mem.page, '/');
  await mem.page.getByRole('heading', { name: /Phiếu lấy ý kiến chờ trả lời/ }).waitFor();
  await mem.page.getByText('Phiên họp sắp tới').waitFor();
  assert((await mem.page.locator(`a[href="${ballotPath}"]`).count()) === 0, 'the answered ballot is still in "my work"');

  step('the session is kept in this tab only for its lifetime; sign-out empties web storage and the dossier cache');
  assert((await mem.page.evaluate(() => localStorage.length)) === 0, 'localStorage holds something');
  await mem.page.getByRole('button', { name: 'Đăng xuất' }).click();
  await mem.page.getByLabel('Mã người dùng').waitFor();
  const storage = await mem.page.evaluate(() => localStorage.length + sessionStorage.length);
  assert(storage === 0, 'web storage is not empty after sign-out');
  const dbs = await mem.page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
  assert(!dbs.includes('ecabinet-docs'), `document cache left after sign-out: ${dbs.join(', ')}`);
  await mem.context.close();

  step('secretariat follows who has not answered and reads the aggregate report');
  await go(sec.page, '/');
  await go(sec.page, ballotPath);
  await sec.page.getByRole('heading', { name: 'Theo dõi trả lời' }).waitFor();
  const notAnswered = Number(await sec.page.getByTestId('not-answered-count').textContent());
  assert(notAnswered === cast.voting.length - 1, `not answered: ${notAnswered}, expected ${cast.voting.length - 1}`);
  await sec.page.getByRole('heading', { name: 'Tổng hợp ý kiến' }).waitFor();
  await sec.page.getByText('Câu 1.').first().waitFor();
  await axe(sec.page, 'ballot-report');
  await shot(sec.page, 'secretariat-ballot-report');

  step('secretariat closes the ballot after confirming and hands out the report as PDF');
  await sec.page.getByRole('button', { name: 'Kết thúc lấy ý kiến' }).click();
  await confirm(sec.page, 'Xác nhận kết thúc');
  await sec.page.getByText('Đã kết thúc').first().waitFor();
  await sec.page.getByRole('button', { name: 'Lấy báo cáo tổng hợp (PDF)' }).click();
  const pdfUrl = await sec.page.getByTestId('report-pdf').getAttribute('href');
  const pdf = await fetch(pdfUrl);
  assert(pdf.ok && (await pdf.arrayBuffer()).byteLength > 1000, 'the report PDF did not download');
  await sec.context.close();
  return { receipt: hash, url: `${WEB_URL}${ballotPath}` };
}
