"""The outbound sender: opaque messages signed as Standard Webhooks and delivered by ``webhook_worker``.

It knows endpoints (a key, a URL, signing secrets), messages (an id, a type, a body it never reads) and
the attempts made to deliver them; nothing of what a message means or who asked for it
(docs/downstream.md; docs/architecture.md › Outbound messages).
"""
