"""What the chat channels (WhatsApp, SMS) share between services: the collections intake writes
and others read, the ticket sources they file, and the platform's customer service window."""

from __future__ import annotations

from datetime import timedelta

CONVERSATIONS = "chat_conversations"  # one per (channel, number): state, outbox of replies
MESSAGES = "chat_messages"  # the transcript: every message in and out
STATUSES = "chat_statuses"  # delivery statuses the platform reported
CHAT_SOURCES = frozenset({"whatsapp", "sms"})
# WhatsApp lets a business answer freely for 24 hours after the citizen's last message;
# outside it only an approved template may be sent.
SERVICE_WINDOW = timedelta(hours=24)
# What the development stack gives intake and notify as the Cloud API's token (the dev sink
# plays the API); production refuses it.
DEV_WHATSAPP_ACCESS_TOKEN = "dev-whatsapp-access-token"
