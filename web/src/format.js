// Vietnamese labels and date formatting (Asia/Ho_Chi_Minh).

const TZ = 'Asia/Ho_Chi_Minh';
const dateTime = new Intl.DateTimeFormat('vi-VN', {
  timeZone: TZ, hour: '2-digit', minute: '2-digit', day: '2-digit', month: '2-digit', year: 'numeric',
});
const dateOnly = new Intl.DateTimeFormat('vi-VN', { timeZone: TZ, day: '2-digit', month: '2-digit', year: 'numeric' });

export function fmtDateTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTime.format(d);
}
export function fmtDate(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateOnly.format(d);
}

/** "còn 2 ngày 3 giờ" / "quá hạn 5 giờ". */
export function untilText(iso, now = Date.now()) {
  if (!iso) return '';
  const ms = new Date(iso).getTime() - now;
  const abs = Math.abs(ms);
  const days = Math.floor(abs / 86400000);
  const hours = Math.floor((abs % 86400000) / 3600000);
  const mins = Math.floor((abs % 3600000) / 60000);
  const span = days > 0 ? `${days} ngày ${hours} giờ` : hours > 0 ? `${hours} giờ ${mins} phút` : `${mins} phút`;
  return ms >= 0 ? `còn ${span}` : `quá hạn ${span}`;
}

export function fmtDuration(seconds) {
  if (seconds == null) return '—';
  const m = Math.round(seconds / 60);
  return m < 60 ? `${m} phút` : `${Math.floor(m / 60)} giờ ${m % 60} phút`;
}

/** `datetime-local` value (interpreted in UTC+7) → ISO 8601 with +07:00. */
export function localInputToIso(value) {
  if (!value) return '';
  return `${value.length === 16 ? value + ':00' : value}+07:00`;
}
/** ISO → `datetime-local` value in UTC+7. */
export function isoToLocalInput(date) {
  const shifted = new Date(date.getTime() + 7 * 3600 * 1000);
  return shifted.toISOString().slice(0, 16);
}

export const ROLE_LABELS = {
  chair: 'Chủ tọa (Thủ tướng)',
  deputy_chair: 'Phó Thủ tướng',
  member: 'Thành viên Chính phủ',
  secretariat: 'Văn phòng Chính phủ',
  assistant: 'Trợ lý / thư ký',
  drafting_agency: 'Cơ quan chủ trì soạn thảo',
  guest: 'Khách mời',
  platform_admin: 'Quản trị nền tảng',
};

export const BALLOT_STATES = {
  draft: 'Dự thảo',
  submitted: 'Chờ phê duyệt',
  approved: 'Đã phê duyệt',
  sent: 'Đang lấy ý kiến',
  closed: 'Đã kết thúc',
  withdrawn: 'Đã rút',
};

export const MEETING_STATES = {
  scheduled: 'Sắp họp',
  planned: 'Sắp họp',
  draft: 'Đang chuẩn bị',
  in_progress: 'Đang họp',
  started: 'Đang họp',
  ended: 'Đã kết thúc',
  closed: 'Đã kết thúc',
};

export const POLL_STATES = { draft: 'Chưa mở', created: 'Chưa mở', open: 'Đang biểu quyết', closed: 'Đã đóng' };

export const RESOLUTION_STATES = { draft: 'Chờ ký', issued: 'Đã ban hành', withdrawn: 'Đã rút' };

export const ANSWER_CHOICES = [
  { value: 'agree', label: 'Đồng ý' },
  { value: 'disagree', label: 'Không đồng ý' },
  { value: 'other', label: 'Ý kiến khác' },
];

export const POLL_CHOICE_LABELS = { yes: 'Tán thành', no: 'Không tán thành', abstain: 'Không biểu quyết' };
export const choiceLabel = (c) => POLL_CHOICE_LABELS[c] || ANSWER_CHOICES.find((x) => x.value === c)?.label || c;

export const ATTENDANCE_MODES = [
  { value: 'in_room', label: 'Dự tại phòng họp' },
  { value: 'remote', label: 'Dự trực tuyến' },
  { value: 'absent', label: 'Vắng mặt' },
];

export const POSITIONS = [
  { value: 'support', label: 'Tán thành' },
  { value: 'object', label: 'Không tán thành' },
  { value: 'comment', label: 'Có ý kiến' },
];

export const RULE_LABELS = {
  majority_of_total: 'quá nửa tổng số thành viên',
  majority_of_present: 'quá nửa số thành viên có mặt',
};
