// The live meeting room over WebSocket: one connection for the room on screen, its messages handed to the
// components that show what changed, reconnection with backoff, and the status that tells the screen whether
// to fall back to polling. A fresh ticket is asked for at every (re)connection (GET .../live).
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, bodyPath, enc } from './api.js';

/** API Gateway closes a WebSocket idle for 10 minutes: a ping every 5 keeps it (and costs 0.2 messages/min). */
const KEEPALIVE_MS = 5 * 60 * 1000;
const BACKOFF_MS = [1000, 2000, 5000, 10000, 30000];

const listeners = new Set();
const statusListeners = new Set();
let status = 'connecting';

function setStatus(next) {
  if (status === next) return;
  status = next;
  statusListeners.forEach((fn) => fn(next));
}

function dispatch(message) {
  listeners.forEach((fn) => {
    try {
      fn(message);
    } catch (e) {
      console.error('live message handler failed', e);
    }
  });
}

/**
 * Keep a live connection to the meeting until the returned function is called. Every time the socket opens
 * (the first time and after each reconnection) listeners get `{type: 'reconnected'}`, so they re-read what
 * they show and catch up on whatever changed while there was no connection.
 */
export function connectRoom(meetingId) {
  let stopped = false;
  let socket = null;
  let retry = null;
  let keepalive = null;
  let failures = 0;

  const schedule = () => {
    if (stopped) return;
    const base = BACKOFF_MS[Math.min(failures, BACKOFF_MS.length - 1)];
    failures += 1;
    retry = setTimeout(open, base + Math.random() * base * 0.3);
  };

  async function open() {
    if (stopped) return;
    if (typeof WebSocket === 'undefined') {
      setStatus('offline');
      return;
    }
    setStatus(failures ? 'offline' : 'connecting');
    let ticket;
    try {
      ticket = await api(bodyPath(`/meetings/${enc(meetingId)}/live`));
    } catch {
      setStatus('offline');
      schedule();
      return;
    }
    if (stopped) return;
    try {
      socket = new WebSocket(ticket.url);
    } catch {
      setStatus('offline');
      schedule();
      return;
    }
    socket.onopen = () => {
      failures = 0;
      setStatus('live');
      dispatch({ type: 'reconnected', meeting_id: meetingId });
      clearInterval(keepalive);
      keepalive = setInterval(() => socket?.readyState === 1 && socket.send('{"action":"ping"}'), KEEPALIVE_MS);
    };
    socket.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message && message.meeting_id === meetingId) dispatch(message);
    };
    socket.onclose = () => {
      clearInterval(keepalive);
      socket = null;
      setStatus('offline');
      schedule();
    };
  }

  const wake = () => {
    // A tablet back from sleep or back online reconnects at once rather than at the end of its backoff.
    if (!stopped && !socket && document.visibilityState !== 'hidden') {
      clearTimeout(retry);
      open();
    }
  };
  window.addEventListener('online', wake);
  document.addEventListener('visibilitychange', wake);
  open();
  return () => {
    stopped = true;
    clearTimeout(retry);
    clearInterval(keepalive);
    window.removeEventListener('online', wake);
    document.removeEventListener('visibilitychange', wake);
    if (socket) {
      socket.onclose = null;
      socket.close();
    }
    setStatus('connecting');
  };
}

/** The connection's status for this screen: 'connecting', 'live' or 'offline' (poll instead). */
export function useLiveStatus() {
  const [value, setValue] = useState(status);
  useEffect(() => {
    statusListeners.add(setValue);
    setValue(status);
    return () => statusListeners.delete(setValue);
  }, []);
  return value;
}

/** Open the meeting's live connection while the component is mounted; returns its status. */
export function useLiveRoom(meetingId) {
  useEffect(() => connectRoom(meetingId), [meetingId]);
  return useLiveStatus();
}

/** Call `fn(message)` for every live message (and `{type: 'reconnected'}`) while mounted. */
export function useLiveMessage(fn) {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    const handler = (message) => saved.current(message);
    listeners.add(handler);
    return () => listeners.delete(handler);
  }, []);
}

/** The meeting view with a live message applied: what the message carries replaces what the view showed. */
export function applyToMeeting(m, message, me) {
  if (!m) return m;
  if (message.type === 'attendance') {
    const mine = message.user_id === me ? { my_attendance: message.mode } : {};
    return { ...m, attendance: message.attendance, quorum: message.quorum, ...mine };
  }
  if (message.type === 'item') {
    const states = Object.fromEntries((message.items || []).map((i) => [i.item_id, i.state]));
    return {
      ...m,
      current_item: message.current_item,
      items: (m.items || []).map((i) => (states[i.item_id] ? { ...i, state: states[i.item_id] } : i)),
    };
  }
  if (message.type === 'meeting') {
    return { ...m, state: message.state, started_at: message.started_at, ended_at: message.ended_at,
      current_item: message.current_item };
  }
  return m;
}

/** Whether a message changes more of the meeting view than it carries, so the view is re-read: a poll opening
 * or closing, and a deputy recorded or withdrawn (the message carries the counts, not the deputies' list). */
export function pollChangesMeeting(m, message) {
  if (message.type === 'attendance') {
    return message.mode === 'deputy' || (m?.deputies || []).some((d) => d.for_user_id === message.user_id);
  }
  if (message.type !== 'poll') return false;
  const known = (m?.polls || []).find((p) => p.poll_id === message.poll_id);
  return !known || known.state !== message.state || (message.outcome && !known.outcome);
}
