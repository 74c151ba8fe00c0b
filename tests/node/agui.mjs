// Runs the real AG-UI client (@ag-ui/client's HttpAgent) against URL and prints one JSON line:
// every event received, each checked by @ag-ui/core's schema, and the messages the agent assembled.
// Usage: node agui.mjs URL [message] [forwardedPropsJSON]
import { HttpAgent } from "@ag-ui/client";
import { EventSchemas } from "@ag-ui/core/schemas";

const [url, message = "hello", props = "{}"] = process.argv.slice(2);
const agent = new HttpAgent({ url, threadId: "node-thread", initialMessages: [
  { id: "u1", role: "user", content: message },
] });
const events = [];
const invalid = [];
let failure = null;
try {
  await agent.runAgent({ runId: "node-run", forwardedProps: JSON.parse(props) }, {
    onEvent({ event }) {
      events.push(event.type);
      const checked = EventSchemas.safeParse(event);
      if (!checked.success) invalid.push({ type: event.type, issues: checked.error.issues });
    },
  });
} catch (error) {
  failure = String(error?.message ?? error);
}
console.log(JSON.stringify({ events, invalid, failure, messages: agent.messages }));
