// The first meeting (24 June 2019) played again: the chair on a tablet, a member in the room on a tablet,
// a member remote on a phone; the other members join and vote through the API with their own signatures;
// 21 in the room, 4 remote, 25 for; the chair signs the resolution on a phone.
import {
  BODY, SECRETARIAT, TIMEOUT, assert, axe, call, confirm, go, newContext, seedFile, shot, signAs, signIn, tokenFor,
} from '../lib.mjs';

export async function meetingScenario(browser, cast, state, step) {
  const chairId = cast.chair.user_id;
  const [inRoomMember, remoteMember, ...others] = cast.plain;
  const rest = cast.voting.filter((m) => ![chairId, inRoomMember.user_id, remoteMember.user_id].includes(m.user_id));
  assert(rest.length >= 22, `need 25 voting members, roster has ${cast.voting.length}`);
  // 21 in the room (chair and one browser member among them), 4 remote (one browser member), the rest absent.
  const apiInRoom = rest.slice(0, 19);
  const apiRemote = rest.slice(19, 22);
  void others;

  step('secretariat creates the meeting and its agenda item with the draft');
  const sec = await newContext(browser, 'desktop', 'secretariat');
  await signIn(sec.page, SECRETARIAT, '/secretariat/meetings/new');
  await sec.page.getByLabel('Tên phiên họp').fill('Phiên họp Chính phủ thường kỳ tháng 6 năm 2019');
  await sec.page.getByRole('button', { name: 'Tạo phiên họp' }).click();
  await sec.page.waitForURL((u) => /^\/meetings\/[^/]+$/.test(u.pathname));
  const meetingPath = new URL(sec.page.url()).pathname;
  const meetingId = decodeURIComponent(meetingPath.split('/').pop());
  state.meetingPath = meetingPath;
  await sec.page.getByRole('button', { name: '+ Thêm nội dung' }).click();
  await sec.page.getByLabel('Tệp hồ sơ').setInputFiles(await seedFile(browser, 'du-thao-nghi-quyet.pdf'));
  await sec.page.getByLabel('Tên tài liệu').fill('Dự thảo Nghị quyết phiên họp');
  await sec.page.getByRole('button', { name: 'Tải hồ sơ lên' }).click();
  await sec.page.getByTestId('uploaded-doc').waitFor({ timeout: 3 * TIMEOUT }); // verified by the queue consumer
  await sec.page.getByLabel('Tên nội dung').fill('Khai trương Hệ thống e-Cabinet và thông qua Nghị quyết phiên họp');
  // The drafting agency is a member of the roster with that role (the API takes its id).
  const agency = cast.roster.find((m) => m.role === 'drafting_agency');
  assert(agency, 'the roster has no drafting agency');
  await sec.page.getByLabel('Cơ quan chủ trì soạn thảo').selectOption({ label: agency.name });
  await sec.page.getByRole('button', { name: 'Thêm', exact: true }).click();
  await sec.page.getByRole('link', { name: /Khai trương Hệ thống e-Cabinet/ }).waitFor();
  await sec.page.getByTestId('meeting-kind').filter({ hasText: 'Phiên họp thường kỳ' }).waitFor();
  await axe(sec.page, 'meeting-room-secretariat');
  await shot(sec.page, 'secretariat-meeting-prepared');

  step('chair on a tablet opens the meeting; members join in the room and remotely');
  const chair = await newContext(browser, 'tablet', 'chair');
  await signIn(chair.page, chairId, meetingPath);
  await chair.page.getByRole('button', { name: 'Dự tại phòng họp' }).click();
  await chair.page.getByRole('button', { name: 'Khai mạc phiên họp' }).click();
  await confirm(chair.page, 'Xác nhận khai mạc');
  await chair.page.getByRole('button', { name: 'Bế mạc phiên họp' }).waitFor();
  // The room is live (WebSocket): from here on the chair's tablet does not poll, what follows is pushed.
  await chair.page.getByTestId('live-status').filter({ hasText: 'Trực tiếp' }).waitFor();

  const room = await newContext(browser, 'tablet', 'member-in-room');
  await signIn(room.page, inRoomMember.user_id, meetingPath);
  await room.page.getByRole('button', { name: 'Dự tại phòng họp' }).click();
  const remote = await newContext(browser, 'phone', 'member-remote');
  await signIn(remote.page, remoteMember.user_id, meetingPath);
  await remote.page.getByRole('button', { name: 'Dự trực tuyến' }).click();

  const secToken = await tokenFor(SECRETARIAT);
  const mPath = `/bodies/${BODY}/meetings/${encodeURIComponent(meetingId)}`;
  for (const m of apiInRoom) await call('PUT', `${mPath}/attendance/${m.user_id}`, { token: secToken, body: { mode: 'in_room' } });
  for (const m of apiRemote) await call('PUT', `${mPath}/attendance/${m.user_id}`, { token: secToken, body: { mode: 'remote' } });
  const absent = cast.voting.filter((m) => ![chairId, inRoomMember.user_id, remoteMember.user_id, ...apiInRoom.map((x) => x.user_id), ...apiRemote.map((x) => x.user_id)].includes(m.user_id));
  for (const m of absent) await call('PUT', `${mPath}/attendance/${m.user_id}`, { token: secToken, body: { mode: 'absent' } });

  await chair.page.getByTestId('in-room').filter({ hasText: '21' }).waitFor();
  await chair.page.getByTestId('remote').filter({ hasText: '4' }).waitFor();
  await chair.page.getByText('Đủ số lượng để họp').waitFor();

  step('secretariat records a deputy for an absent minister: listed, not counted');
  await sec.page.getByLabel('Thành viên vắng mặt').selectOption(absent[0].user_id);
  await sec.page.getByLabel('Họ tên người dự thay').fill('Nguyễn Văn Thứ');
  await sec.page.getByLabel('Chức vụ', { exact: true }).fill('Thứ trưởng');
  await sec.page.getByRole('button', { name: 'Ghi nhận người dự thay' }).click();
  await chair.page.getByTestId('deputies').filter({ hasText: 'Nguyễn Văn Thứ' }).waitFor();
  await chair.page.getByTestId('deputy').filter({ hasText: '1' }).waitFor();
  await chair.page.getByTestId('quorum').filter({ hasText: '25/18' }).waitFor();

  step('member in the room states a position, asks for the floor and comments on the draft');
  await room.page.getByLabel('Tán thành', { exact: true }).check();
  await room.page.getByLabel('Nội dung ý kiến').fill('Thống nhất với dự thảo.');
  await room.page.getByRole('button', { name: 'Lưu ý kiến' }).click();
  await room.page.getByText('Đã lưu').waitFor();
  await room.page.getByRole('button', { name: 'Xin phát biểu' }).click();
  await room.page.getByRole('button', { name: 'Đã đăng ký phát biểu' }).waitFor();
  await room.page.getByLabel('Vị trí (điều, khoản)').fill('Điều 1');
  await room.page.getByLabel('Nội dung góp ý').fill('Bổ sung cụm từ “trên môi trường điện tử”.');
  await room.page.getByRole('button', { name: 'Gửi góp ý' }).click();
  await room.page.getByText('Bổ sung cụm từ').waitFor();

  step('chair opens the poll; the room, the phone and the API members vote with signatures');
  await chair.page.getByLabel('Nội dung biểu quyết mới').fill('Thông qua Nghị quyết phiên họp Chính phủ thường kỳ tháng 6 năm 2019');
  await chair.page.getByRole('button', { name: 'Tạo biểu quyết' }).click();
  await chair.page.getByRole('button', { name: 'Mở biểu quyết' }).click();
  await confirm(chair.page, 'Xác nhận mở biểu quyết');
  await chair.page.getByText('Đang biểu quyết').first().waitFor();
  await axe(chair.page, 'meeting-room-chair');
  await shot(chair.page, 'chair-meeting-room-tablet');

  for (const p of [room.page, remote.page, chair.page]) {
    await p.getByRole('button', { name: 'Tán thành', exact: true }).click();
    await p.getByRole('dialog').waitFor();
    if (p === remote.page) {
      await axe(p, 'vote-confirm-phone');
      await shot(p, 'member-remote-vote-confirm-phone');
    }
    await p.getByRole('button', { name: 'Ký số và gửi biểu quyết' }).click();
    await p.getByTestId('receipt').waitFor();
  }
  await shot(remote.page, 'member-remote-vote-receipt-phone');
  await shot(room.page, 'member-in-room-vote-receipt-tablet');

  const pollId = await findOpenPoll(secToken, mPath);
  for (const m of [...apiInRoom, ...apiRemote]) {
    const signature = await signAs(m.user_id, 'vote', pollId, 'yes');
    await call('POST', `/bodies/${BODY}/polls/${encodeURIComponent(pollId)}/votes`, {
      token: await tokenFor(m.user_id), body: { choice: 'yes', signature },
    });
  }

  step('the live tally reaches 25 on every screen (ETag polling), the chair closes the poll');
  for (const p of [chair.page, room.page, remote.page]) {
    await p.getByTestId('tally').locator('.bar-row', { hasText: 'Tán thành' }).locator('.bar-value').filter({ hasText: /^25$/ }).waitFor();
  }
  await shot(chair.page, 'chair-live-tally-tablet');
  await chair.page.getByRole('button', { name: 'Kết thúc biểu quyết' }).click();
  await confirm(chair.page, 'Xác nhận kết thúc biểu quyết');
  await chair.page.getByText('Được thông qua').waitFor();
  await chair.page.getByLabel('Nội dung kết luận').fill('Thống nhất ban hành Nghị quyết; giao Văn phòng Chính phủ hoàn thiện.');
  await chair.page.getByRole('button', { name: 'Lưu kết luận' }).click();
  await chair.page.getByTestId('conclusion').filter({ hasText: 'giao Văn phòng Chính phủ hoàn thiện' }).waitFor();

  step('secretariat drafts the resolution from the poll');
  await go(sec.page, '/');
  await go(sec.page, `${meetingPath}`);
  await sec.page.getByRole('button', { name: 'Soạn nghị quyết trình ký' }).click();
  await sec.page.waitForURL((u) => /^\/resolutions\/[^/]+$/.test(u.pathname));
  const resolutionPath = new URL(sec.page.url()).pathname;

  step('chair signs the resolution on a phone and it gets its number');
  await chair.page.setViewportSize({ width: 390, height: 844 });
  await go(chair.page, '/');
  await chair.page.locator(`a[href="${resolutionPath}"]`).click();
  await chair.page.getByRole('button', { name: 'Ký nghị quyết' }).click();
  await chair.page.getByRole('dialog').waitFor();
  // The chair reviews the rendered PDF (pdf.js, inline) before signing it.
  await chair.page.getByTestId('review-pdf-text').filter({ hasText: 'CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM' })
    .waitFor({ state: 'attached', timeout: 60000 });
  await chair.page.getByTestId('review-pdf-text').filter({ hasText: 'TM. CHÍNH PHỦ' }).waitFor({ state: 'attached' });
  await chair.page.locator('[data-testid="review-pdf"] canvas.pdf-page').first().waitFor();
  await shot(chair.page, 'chair-resolution-confirm-phone');
  await chair.page.getByRole('button', { name: 'Ký số', exact: true }).click();
  const number = (await chair.page.getByTestId('resolution-number').textContent()).trim();
  assert(/^\d{2,}\/NQ-CP$/.test(number), `resolution number "${number}"`);
  await chair.page.getByText('TM. CHÍNH PHỦ').first().waitFor();
  await axe(chair.page, 'resolution-signed-phone');
  await shot(chair.page, 'chair-resolution-signed-phone');

  step('the secretariat finds it in the register by its number and opens it');
  await go(sec.page, '/resolutions');
  await sec.page.getByTestId('register-q').fill(number);
  await sec.page.getByRole('button', { name: 'Tìm', exact: true }).click();
  await sec.page.getByTestId('register-list').getByText(number).first().waitFor();
  await sec.page.getByTestId('register-list').locator(`a[href="${resolutionPath}"]`).click();
  await sec.page.getByTestId('resolution-number').filter({ hasText: number }).waitFor();
  // The issued PDF, as any reader gets it: drawn by the inline viewer, with the number stamped at issuing and the
  // chair's signature block in its text.
  const issued = sec.page.getByTestId('issued-pdf-text');
  await issued.filter({ hasText: number }).waitFor({ state: 'attached' });
  await issued.filter({ hasText: 'TM. CHÍNH PHỦ' }).waitFor({ state: 'attached' });
  await sec.page.locator('[data-testid="issued-pdf"] canvas.pdf-page').first().waitFor();
  await axe(sec.page, 'resolution-register');

  step('chair ends the meeting; the secretariat reads the KPIs');
  await chair.page.setViewportSize({ width: 1024, height: 768 });
  await go(chair.page, meetingPath);
  await chair.page.getByRole('button', { name: 'Bế mạc phiên họp' }).click();
  await confirm(chair.page, 'Xác nhận bế mạc');
  await chair.page.getByText('Đã kết thúc').first().waitFor();
  // Inside the app, from the issued resolution's screen (its PDF viewer is put away on the way).
  await go(sec.page, '/reports');
  await sec.page.locator('figure.chart svg').first().waitFor();
  await axe(sec.page, 'reports');
  await shot(sec.page, 'secretariat-meeting-kpis');

  for (const c of [sec, chair, room, remote]) await c.context.close();
  return { number, problems: [] };
}

async function findOpenPoll(token, mPath) {
  const open = ((await call('GET', mPath, { token })).polls || []).find((p) => p.state === 'open');
  if (open) return open.poll_id;
  throw new Error('no open poll found');
}
