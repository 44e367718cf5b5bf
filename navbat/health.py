from django.db import connection, transaction
from django.http import JsonResponse
from django.views.decorators.http import require_GET


@transaction.non_atomic_requests
@require_GET
def healthz(request):
    """Liveness and database reachability, for load balancers and `make run` checks."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any database failure means "not healthy", whatever its type
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
