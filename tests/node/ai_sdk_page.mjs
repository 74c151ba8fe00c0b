// The browser side of tests/test_ai_sdk.py: bundled by esbuild into build/ai_sdk_page.js and loaded
// by ai_sdk_page.html?api=URL&message=TEXT. It sends the message with the AI SDK's
// DefaultChatTransport, renders each UI message snapshot into #answer as it streams in, and keeps
// what it showed, and when, in window.__chat for the test to read.
import { DefaultChatTransport, readUIMessageStream } from "ai";

const params = new URLSearchParams(location.search);
const answer = document.getElementById("answer");
const chat = { shown: [], done: false, error: null };
window.__chat = chat;
const started = performance.now();

try {
  const transport = new DefaultChatTransport({ api: params.get("api") });
  const messages = [{ id: "u1", role: "user", parts: [{ type: "text", text: params.get("message") ?? "hello" }] }];
  const stream = await transport.sendMessages({ chatId: "browser-chat", messages, trigger: "submit-message" });
  for await (const message of readUIMessageStream({ stream })) {
    answer.textContent = message.parts.filter((p) => p.type === "text").map((p) => p.text).join("");
    chat.shown.push({ at: performance.now() - started, text: answer.textContent });
  }
} catch (error) {
  chat.error = String(error?.message ?? error);
}
chat.done = true;
