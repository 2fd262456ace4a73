"""Complaints by chat: the WhatsApp Business Cloud API and SMS webhooks, and the conversation
that turns a citizen's messages into a ticket and follows it up (docs/whatsapp.md).

Pure: `dialogue` (the state machine: `model`, `draft`), `lexicon`, `places`, `replies`,
`whatsapp` (the format).
Adapters: `repository`, `media`; use cases: `service`; routes: `api`.
"""
