// "Ngoại tuyến — số liệu lúc HH:MM": shown while the API cannot be reached, naming how old the figures are.
import { useNetwork } from '../network.js';

const hhmm = (d) =>
  d.toLocaleTimeString('vi-VN', { hour: '2-digit', minute: '2-digit', hour12: false, timeZone: 'Asia/Ho_Chi_Minh' });

export function OfflineBanner() {
  const { offline, lastAnswerAt } = useNetwork();
  if (!offline) return null;
  return (
    <div class="offline-banner" role="status" data-testid="offline-banner">
      <strong>Ngoại tuyến</strong> — {lastAnswerAt ? `số liệu lúc ${hhmm(lastAnswerAt)}` : 'chưa có số liệu mới'}. Các
      thao tác sẽ thực hiện được khi có kết nối trở lại.
    </div>
  );
}
