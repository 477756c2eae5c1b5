from django.db import DatabaseError
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from config.db.writable import database_is_read_only


@require_GET
def healthz(request):
    """200 when the database answers and accepts writes, 503 otherwise (load balancers poll this): a
    read-only database cannot store webhooks, so this instance must not receive them."""
    try:
        read_only = database_is_read_only()
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "error": "database unreachable"}, status=503)
    if read_only:
        return JsonResponse({"status": "unavailable", "error": "database is read-only"}, status=503)
    return JsonResponse({"status": "ok"})
