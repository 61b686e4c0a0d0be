// An assistant sees their member's ballots, meetings and deadlines, but finds no button to answer, vote or sign.
import { assert, axe, go, newContext, shot, signIn } from '../lib.mjs';

const FORBIDDEN = /Tán thành|Không tán thành|Không biểu quyết|Ký số|Ký và gửi|Ký nghị quyết|Lưu ý kiến|Xin phát biểu/;

export async function assistantScenario(browser, cast, state, step) {
  assert(cast.assistant, 'the roster has no assistant');
  const { page, context } = await newContext(browser, 'tablet', 'assistant');
  step('assistant signs in and sees whose work it is');
  await signIn(page, cast.assistant.user_id);
  await page.getByText('với vai trò trợ lý').waitFor();
  await page.getByRole('heading', { name: 'Việc của tôi' }).waitFor();
  await axe(page, 'assistant-my-work');
  await shot(page, 'assistant-my-work-tablet');
  for (const p of [state.ballotPath, state.meetingPath].filter(Boolean)) {
    step(`assistant opens ${p}: no answer, vote or sign controls`);
    await go(page, p);
    await page.getByRole('heading', { level: 1 }).waitFor();
    await page.waitForLoadState('networkidle').catch(() => {});
    const buttons = await page.getByRole('button').allTextContents();
    const offending = buttons.filter((t) => FORBIDDEN.test(t));
    assert(offending.length === 0, `assistant sees: ${offending.join(', ')}`);
    assert((await page.locator('input[type=radio]').count()) === 0, 'assistant sees answer choices');
    await shot(page, `assistant-${p.split('/')[1]}`);
    await axe(page, `assistant-${p.split('/')[1]}`);
  }
  await context.close();
}
