// Deployment constants of the web client; change the demo roster suggestions here.

/** The body the app works on (the demo body seeded by `make run`). */
export const BODY_ID = 'chinh-phu';

/** Live tally refresh period in the meeting room (ms); uses If-None-Match so unchanged polls cost a 304. */
export const POLL_REFRESH_MS = 2000;
/** Meeting state (attendance, agenda, polls) refresh period (ms). */
export const MEETING_REFRESH_MS = 4000;

/**
 * Suggested user ids for the local-stage sign-in picker. The backend may later serve
 * the same list at GET /v1/dev/users; until then these are shown.
 */
export const DEV_USERS = [
  { user_id: 'thu-tuong', label: 'Thủ tướng (chủ tọa)' },
  { user_id: 'pho-thu-tuong-1', label: 'Phó Thủ tướng' },
  ...Array.from({ length: 22 }, (_, i) => {
    const n = String(i + 1).padStart(2, '0');
    return { user_id: `bo-truong-${n}`, label: `Bộ trưởng ${n}` };
  }),
  { user_id: 'vpcp-chuyen-vien', label: 'Chuyên viên Văn phòng Chính phủ (thư ký)' },
  { user_id: 'tro-ly-bo-truong-01', label: 'Trợ lý Bộ trưởng 01' },
  { user_id: 'platform-admin', label: 'Quản trị nền tảng' },
];

/** Roles that vote, answer ballots and sign (DOMAIN.md). */
export const SIGNING_ROLES = new Set(['chair', 'deputy_chair', 'member']);
