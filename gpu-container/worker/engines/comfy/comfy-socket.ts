export interface SocketHandlers {
  /** A text frame; binary frames are preview images (server.py:844-852) and are dropped. */
  onText(text: string): void;
  /** The socket closed after it had opened. */
  onClose(code: number): void;
}

/**
 * Opens ComfyUI's /ws with Node's WebSocket. Resolves the open socket, or undefined when it could not
 * be opened within `timeoutMs`: a server that accepts the connection but never answers the upgrade must
 * not stall a run.
 */
export function openSocket(
  url: string,
  timeoutMs: number,
  handlers: SocketHandlers,
): Promise<WebSocket | undefined> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url);
    socket.binaryType = 'arraybuffer';
    let opened = false;
    const giveUp = setTimeout(() => socket.close(), timeoutMs);
    socket.addEventListener('open', () => {
      clearTimeout(giveUp);
      opened = true;
      resolve(socket);
    });
    socket.addEventListener('message', (event) => {
      if (typeof event.data === 'string') handlers.onText(event.data);
    });
    socket.addEventListener('close', (event) => {
      clearTimeout(giveUp);
      if (opened) handlers.onClose(event.code);
      else resolve(undefined);
    });
  });
}
