// The secretariat's room console with the chair: the clerk checks 27 members in by name on a tablet, the chair
// opens the meeting (a reload in the room keeps the session), refuses to end it on a stray tap, gives the floor
// with a countdown, and the vote runs to the end while the clerk watches who has not voted.
import {
  BODY, SECRETARIAT, assert, axe, call, confirm, docShot, go, newContext, shot, signAs, signIn, tokenFor,
} from '../lib.mjs';

export async function consoleScenario(browser, cast, state, step) {
  const chairId = cast.chair.user_id;
  const voting = cast.voting;
  assert(voting.length === 27, `the 2019 Government has 27 voting members, roster has ${voting.length}`);
  const others = voting.filter((m) => m.user_id !== chairId);
  const remote = others.slice(20, 24); // 21 in the room with the chair, 4 remote, 2 absent
  const absent = others.slice(24);
  const modeOf = (m) => (remote.includes(m) ? 'Trực tuyến' : absent.includes(m) ? 'Vắng' : 'Tại phòng');

  step('secretariat prepares the meeting: three items, one removed, one moved up, before it starts');
  const secToken = await tokenFor(SECRETARIAT);
  const meeting = await call('POST', `/bodies/${BODY}/meetings`, {
    token: secToken,
    body: { title: 'Phiên họp Chính phủ thường kỳ tháng 7', starts_at: new Date(Date.now() + 3600e3).toISOString(), location: 'Phòng họp Chính phủ' },
  });
  const mPath = `/bodies/${BODY}/meetings/${encodeURIComponent(meeting.meeting_id)}`;
  for (const title of ['Báo cáo tình hình kinh tế - xã hội', 'Nội dung đưa vào nhầm', 'Đề nghị xây dựng Luật Dữ liệu']) {
    await call('POST', `${mPath}/items`, { token: secToken, body: { title, document_ids: [] } });
  }
  const meetingPath = `/meetings/${encodeURIComponent(meeting.meeting_id)}`;
  const sec = await newContext(browser, 'tabletLandscape', 'clerk');
  await signIn(sec.page, SECRETARIAT, meetingPath);
  await sec.page.getByRole('button', { name: 'Xóa: Nội dung đưa vào nhầm' }).click();
  await sec.page.getByRole('dialog').getByText('sẽ bị xóa khỏi chương trình').waitFor();
  await confirm(sec.page, 'Xác nhận xóa nội dung');
  await sec.page.getByRole('link', { name: /Nội dung đưa vào nhầm/ }).waitFor({ state: 'detached' });
  await sec.page.getByRole('button', { name: 'Đưa lên: Đề nghị xây dựng Luật Dữ liệu' }).click();
  await sec.page.locator('.agenda li').first().getByText('Đề nghị xây dựng Luật Dữ liệu').waitFor();

  step('clerk runs the roll call by name for the 27 members');
  const rollcall = sec.page.getByTestId('rollcall');
  await rollcall.getByText('0/27 đã điểm danh').waitFor();
  for (const m of voting) {
    const button = rollcall.getByRole('button', { name: `${m.name}: ${modeOf(m)}`, exact: true });
    await button.click();
    await rollcall.locator(`[data-testid="rollcall-${m.user_id}"] button[aria-pressed="true"]`).waitFor();
  }
  await rollcall.getByText('27/27 đã điểm danh').waitFor();
  await sec.page.getByTestId('in-room').filter({ hasText: '21' }).waitFor();
  await sec.page.getByTestId('remote').filter({ hasText: '4' }).waitFor();
  await sec.page.getByText('Đủ số lượng để họp').waitFor();
  const room = await call('GET', mPath, { token: secToken });
  assert(room.attendance.in_room === 21 && room.attendance.remote === 4 && room.attendance.absent === 2,
    `attendance ${JSON.stringify(room.attendance)}`);

  step('chair on a tablet opens the meeting; a reload in the room keeps the session');
  const chair = await newContext(browser, 'tabletLandscape', 'chair');
  await signIn(chair.page, chairId, meetingPath);
  await chair.page.getByRole('button', { name: 'Khai mạc phiên họp' }).click();
  await confirm(chair.page, 'Xác nhận khai mạc');
  await chair.page.getByRole('button', { name: 'Bế mạc phiên họp' }).waitFor();
  await chair.page.reload();
  await chair.page.getByRole('button', { name: 'Đăng xuất' }).waitFor();
  await chair.page.getByRole('heading', { level: 1, name: 'Phiên họp Chính phủ thường kỳ tháng 7' }).waitFor();
  assert(new URL(chair.page.url()).pathname === meetingPath, `after reload the chair is at ${chair.page.url()}`);
  assert((await chair.page.getByLabel('Mã người dùng').count()) === 0, 'the reload asked to sign in again');

  step('a stray tap on "end the meeting" is refused by the confirmation');
  await chair.page.getByRole('button', { name: 'Bế mạc phiên họp' }).click();
  const dialog = chair.page.getByRole('dialog');
  await dialog.getByText('Không thể mở lại phiên họp').waitFor();
  // The safe choice has the focus: a second stray tap on Enter cancels.
  await chair.page.keyboard.press('Enter');
  await dialog.waitFor({ state: 'hidden' });
  await chair.page.getByRole('button', { name: 'Bế mạc phiên họp' }).click();
  await dialog.getByRole('button', { name: 'Hủy' }).click();
  await dialog.waitFor({ state: 'hidden' });
  assert((await call('GET', mPath, { token: secToken })).state === 'started', 'the meeting ended on a stray tap');

  step('the chair takes the first item; a member asks for the floor and gets it with a countdown');
  await chair.page.getByRole('button', { name: 'Chuyển sang thảo luận nội dung này' }).click();
  await chair.page.getByTestId('item-timer').getByText('Đề nghị xây dựng Luật Dữ liệu').waitFor();
  const current = (await call('GET', mPath, { token: secToken })).current_item;
  const speaker = others[0];
  await call('POST', `${mPath}/items/${encodeURIComponent(current)}/speakers`, { token: await tokenFor(speaker.user_id), body: {} });
  const desk = chair.page.getByTestId('speakers-desk');
  await desk.getByLabel('Thời gian mỗi lượt').selectOption('3');
  await desk.getByRole('button', { name: 'Mời phát biểu' }).click();
  await desk.getByTestId('countdown').filter({ hasText: `${speaker.name}: còn 0` }).waitFor();
  await axe(chair.page, 'chair-room-tablet');
  await chair.page.getByTestId('room-console').evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await docShot(chair.page, 'chair-room-tablet');
  await desk.getByRole('button', { name: 'Kết thúc lượt' }).click();
  await desk.getByText('Chưa có ai đăng ký phát biểu.').waitFor();

  step('the chair opens the poll; the clerk is taken to it and watches who has not voted');
  await chair.page.getByLabel('Nội dung biểu quyết mới').fill('Thông qua Đề nghị xây dựng Luật Dữ liệu');
  await chair.page.getByRole('button', { name: 'Tạo biểu quyết' }).click();
  await chair.page.getByRole('button', { name: 'Mở biểu quyết' }).click();
  await confirm(chair.page, 'Xác nhận mở biểu quyết');
  await sec.page.getByTestId('poll-alert').waitFor();
  const count = sec.page.getByTestId('not-voted-count');
  await count.filter({ hasText: /^25$/ }).waitFor();
  // The clerk's screen was taken to the poll: its card is in view without scrolling by hand.
  await sec.page.waitForFunction(() => {
    const r = document.querySelector('[data-testid="poll"]')?.getBoundingClientRect();
    return r && r.top < innerHeight && r.bottom > 0;
  });
  await axe(sec.page, 'clerk-console-tablet');
  await sec.page.locator('.rollcall-list').evaluate((el) => (el.scrollTop = 0));
  await sec.page.getByTestId('room-console').evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await docShot(sec.page, 'clerk-console-tablet');
  await shot(sec.page, 'clerk-console-full');

  await chair.page.getByRole('button', { name: 'Tán thành', exact: true }).click();
  await chair.page.getByRole('button', { name: 'Ký số và gửi biểu quyết' }).click();
  await chair.page.getByTestId('receipt').waitFor();
  const poll = (await call('GET', mPath, { token: secToken })).polls.find((p) => p.state === 'open');
  const present = voting.filter((m) => m.user_id !== chairId && !absent.includes(m));
  for (const [n, m] of present.entries()) {
    const choice = n < 20 ? 'yes' : 'no';
    const signature = await signAs(m.user_id, 'vote', poll.poll_id, choice);
    await call('POST', `/bodies/${BODY}/polls/${encodeURIComponent(poll.poll_id)}/votes`, {
      token: await tokenFor(m.user_id), body: { choice, signature },
    });
    if (n === 11) await count.filter({ hasText: /^12$/ }).waitFor(); // live, as the votes land
  }
  await count.filter({ hasText: /^0$/ }).waitFor();

  step('the chair closes the poll after confirming; 21 for of 27 passes');
  await chair.page.getByRole('button', { name: 'Kết thúc biểu quyết' }).click();
  await chair.page.getByRole('dialog').getByText('Không thể mở lại').waitFor();
  await confirm(chair.page, 'Xác nhận kết thúc biểu quyết');
  await chair.page.getByText('Được thông qua').waitFor();

  step('the console and the room pass axe at tablet portrait and phone sizes');
  for (const [w, h, label] of [[820, 1180, 'portrait'], [390, 844, 'phone']]) {
    await sec.page.setViewportSize({ width: w, height: h });
    await chair.page.setViewportSize({ width: w, height: h });
    await axe(sec.page, `clerk-console-${label}`);
    await axe(chair.page, `chair-room-${label}`);
  }

  step('offline, the chair sees how old the figures are; the app shell reloads without a network');
  await chair.page.setViewportSize({ width: 1180, height: 820 });
  await chair.context.setOffline(true);
  await chair.page.getByTestId('offline-banner').filter({ hasText: /Ngoại tuyến — số liệu lúc \d\d:\d\d/ }).waitFor();
  await axe(chair.page, 'chair-room-offline');
  await chair.page.reload();
  await chair.page.getByTestId('offline-banner').waitFor();
  await chair.context.setOffline(false);
  await chair.page.getByRole('heading', { level: 1, name: 'Phiên họp Chính phủ thường kỳ tháng 7' }).waitFor();
  await chair.page.getByTestId('offline-banner').waitFor({ state: 'detached' });

  step('the chair ends the meeting; the clerk draws up the minutes and hands out the PDF');
  await chair.page.getByRole('button', { name: 'Bế mạc phiên họp' }).click();
  await confirm(chair.page, 'Xác nhận bế mạc');
  await chair.page.getByText('Đã kết thúc').first().waitFor();
  await go(sec.page, '/');
  await go(sec.page, meetingPath);
  await sec.page.getByRole('button', { name: 'Lập biên bản' }).click();
  await sec.page.getByRole('button', { name: 'Lấy biên bản (PDF)' }).click();
  const href = await sec.page.getByTestId('minutes-pdf').getAttribute('href');
  const pdf = await fetch(href);
  assert(pdf.ok && (await pdf.arrayBuffer()).byteLength > 1000, 'the minutes PDF did not download');
  await axe(sec.page, 'minutes-phone');
  for (const c of [sec, chair]) await c.context.close();
}
