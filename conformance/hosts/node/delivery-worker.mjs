// Runs one delivery (or render_panel call) on a worker thread, so that the driver's
// main thread can stop it at the deadline: Worker.terminate() interrupts WebAssembly
// that never returns, which nothing on the thread running it can do (docs/ABI.md
// section 9, "when the deadline passes, execution is stopped").
//
// Each host call is posted as it completes; a terminated worker's posted messages still
// reach the main thread, so the calls made before the deadline are kept.

import { parentPort, workerData } from 'node:worker_threads';
import { Host, Plugin } from './host.mjs';

const { settings, module, parts, call, payload, ticketId } = workerData;
const plugin = new Plugin(new Host(settings), module, parts);
const onCall = (seq, record) => parentPort.postMessage({ call: { seq, record } });

try {
  parentPort.postMessage({ started: true });
  const result = call === 'render_panel' ? plugin.renderPanel(ticketId, onCall) : plugin.deliver(payload, ticketId, onCall);
  parentPort.postMessage({ done: result });
} catch (e) {
  parentPort.postMessage({ bug: e?.stack ?? String(e) });
}
