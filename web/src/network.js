// Whether the API answers, and when it last did: the offline banner says how old the figures on screen are.
import { useEffect, useState } from 'preact/hooks';

let lastAnswerAt = null;
let offline = typeof navigator !== 'undefined' && navigator.onLine === false;
const listeners = new Set();
const tell = () => listeners.forEach((fn) => fn());

/** Called by the API client after every answer from the server (any status). */
export function markAnswered() {
  lastAnswerAt = new Date();
  if (offline) {
    offline = false;
  }
  tell();
}

/** Called by the API client when a request could not reach the server. */
export function markUnreachable() {
  offline = true;
  tell();
}

if (typeof addEventListener === 'function') {
  addEventListener('offline', () => ((offline = true), tell()));
  addEventListener('online', () => ((offline = false), tell()));
}

export function useNetwork() {
  const [, setN] = useState(0);
  useEffect(() => {
    const fn = () => setN((n) => n + 1);
    listeners.add(fn);
    return () => listeners.delete(fn);
  }, []);
  return { offline, lastAnswerAt };
}
