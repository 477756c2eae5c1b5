from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def healthz(request):
    """200 when the database answers and accepts writes, 503 otherwise (load balancers poll this): a
    read-only database (a standby after failover, ``default_transaction_read_only``) cannot store
    webhooks, so this instance must not receive them."""
    try:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT current_setting('transaction_read_only')")
                read_only = cursor.fetchone()[0] == "on"
            else:
                cursor.execute("SELECT 1")
                read_only = False
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "error": "database unreachable"}, status=503)
    if read_only:
        return JsonResponse({"status": "unavailable", "error": "database is read-only"}, status=503)
    return JsonResponse({"status": "ok"})
