"""Project-wide REST framework policy: who may read, and how pages are cut."""

from rest_framework.pagination import CursorPagination
from rest_framework.permissions import DjangoModelPermissions


class ModelViewPermission(DjangoModelPermissions):
    """Reading needs the model's ``view`` permission (DRF's default lets any logged-in user read)."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }


class IdCursorPagination(CursorPagination):
    """Cursor pages over the primary key: stable while rows are added, never skipping or repeating one."""

    ordering = "id"
    page_size_query_param = "page_size"
    max_page_size = 1000
