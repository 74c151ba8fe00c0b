// Reads URL with the real Vercel AI SDK (`ai`): DefaultChatTransport sends useChat's request and
// readUIMessageStream assembles the UI message. Prints one JSON line: the final message, how many
// snapshots streamed in, and the error the stream reported, if any.
// Usage: node ai_sdk.mjs URL [message]
import { DefaultChatTransport, readUIMessageStream } from "ai";

const [url, text = "hello"] = process.argv.slice(2);
const transport = new DefaultChatTransport({ api: url });
const messages = [{ id: "u1", role: "user", parts: [{ type: "text", text }] }];
let error = null;
let message = null;
let snapshots = 0;
try {
  const stream = await transport.sendMessages({
    chatId: "node-chat", messages, trigger: "submit-message", messageId: undefined, abortSignal: undefined,
  });
  for await (const snapshot of readUIMessageStream({ stream, onError: (e) => { error = String(e?.message ?? e); } })) {
    message = snapshot;
    snapshots += 1;
  }
} catch (e) {
  error = String(e?.message ?? e);
}
console.log(JSON.stringify({ message, snapshots, error }));
