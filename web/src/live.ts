// Live updates over /ws/tasks (DESIGN §4): hello carries the user's change counter; after a
// reconnect the client asks to resume from the last seq it saw; resync-required (or a gap it
// cannot fill) means refetch everything. Reconnects with backoff; reports online/offline.
import { accessToken } from './api/client';

export type LiveState = 'connecting' | 'online' | 'offline';

export interface LiveHandlers {
  onChange: () => void; // a task changed: refetch what shows tasks
  onResync: () => void; // missed changes that cannot be replayed: refetch everything
  onState: (s: LiveState) => void;
  onReminder?: (frame: Record<string, unknown>) => void;
}

export function connectLive(h: LiveHandlers): () => void {
  let socket: WebSocket | null = null;
  let lastSeq: number | null = null;
  let stopped = false;
  let attempt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const schedule = () => {
    if (stopped) return;
    const delay = Math.min(30_000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
    attempt++;
    timer = setTimeout(open, delay);
  };

  const open = async () => {
    if (stopped) return;
    h.onState('connecting');
    const token = await accessToken();
    if (!token || stopped) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/ws/tasks`, ['bearer', token]);
    socket = ws;
    ws.onmessage = (ev) => {
      let frame: Record<string, unknown>;
      try {
        frame = JSON.parse(String(ev.data)) as Record<string, unknown>;
      } catch {
        return;
      }
      const type = String(frame.type ?? '');
      const seq = typeof frame.seq === 'number' ? frame.seq : null;
      if (type === 'hello') {
        attempt = 0;
        h.onState('online');
        if (lastSeq !== null && seq !== null && seq > lastSeq) {
          ws.send(JSON.stringify({ type: 'resume', since: lastSeq }));
        } else if (seq !== null) {
          lastSeq = seq;
        }
      } else if (type === 'resync-required') {
        lastSeq = seq ?? lastSeq;
        h.onResync();
      } else if (type.startsWith('task.')) {
        if (seq !== null) lastSeq = Math.max(lastSeq ?? 0, seq);
        h.onChange();
      } else if (type === 'reminder.fired') {
        h.onReminder?.(frame);
      }
    };
    ws.onclose = () => {
      if (socket === ws) socket = null;
      if (stopped) return; // closed by us: a newer connection reports its own state
      h.onState('offline');
      schedule();
    };
  };

  const wentOnline = () => {
    if (!socket) {
      clearTimeout(timer);
      attempt = 0;
      void open();
    }
  };
  // The browser knows it lost the network before the socket does (that can take two ping
  // intervals): say offline now, drop the socket, and reconnect when it is back.
  const wentOffline = () => {
    const ws = socket;
    socket = null;
    if (ws) {
      ws.onclose = null;
      ws.close();
    }
    clearTimeout(timer);
    h.onState('offline');
  };
  window.addEventListener('online', wentOnline);
  window.addEventListener('offline', wentOffline);
  void open();
  return () => {
    stopped = true;
    clearTimeout(timer);
    window.removeEventListener('online', wentOnline);
    window.removeEventListener('offline', wentOffline);
    socket?.close();
  };
}
