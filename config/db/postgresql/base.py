"""Django's PostgreSQL backend with a health check that asks the socket before it asks the server.

With ``CONN_HEALTH_CHECKS`` Django checks a reused connection at its first use in every request by sending
``SELECT 1``: one round trip per request, about 15% of a gunicorn worker's busy time on inline deliveries.
A connection the server ended (terminated, restarted, idle timeout) has already been told so: PostgreSQL
sends a FATAL error and closes the socket, so the socket turns readable. An idle connection has nothing to
read. So: nothing to read, usable, with no round trip; anything to read, Django's own ``SELECT 1`` decides.
A connection that died without a word (a cable pulled) passes this check as it passes ``SELECT 1`` on a
link that is still up: the query then fails and the request answers as for any outage.
"""

import select

from django.db.backends.postgresql import base
from psycopg import pq

# A session in these states has said all it had to say; in any other (a failed transaction, a query in
# progress, a broken link) Django's SELECT 1 decides, as before.
QUIET_TRANSACTION_STATES = frozenset({pq.TransactionStatus.IDLE, pq.TransactionStatus.INTRANS})


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self):
        link = self.connection
        if link is None or link.closed or link.info.status != pq.ConnStatus.OK:
            return False
        if link.info.transaction_status not in QUIET_TRANSACTION_STATES or has_something_to_read(link.fileno()):
            return super().is_usable()
        return True


def has_something_to_read(descriptor: int) -> bool:
    """Whether the server sent anything since the last answer (an error, end of file), without waiting.
    ``poll``, not ``select``: a busy process's descriptors can be past select's limit of 1024."""
    poller = select.poll()
    poller.register(descriptor, select.POLLIN)
    return bool(poller.poll(0))
