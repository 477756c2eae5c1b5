"""The admin's lists count their rows up to a cap: a broad search over a million contacts would otherwise
spend most of its page on ``COUNT(*)`` of every match (docs/performance.md › Contact search)."""

from django.core.paginator import Paginator
from django.utils.formats import number_format
from django.utils.functional import cached_property
from django.utils.translation import gettext

COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    """Django's paginator, counting at most ``COUNT_CAP`` + 1 rows (``COUNT(*)`` over a ``LIMIT`` subquery).

    Past the cap the list says "more than 10,000" and its pages run to the cap's: staff narrow the search
    rather than page through ten thousand rows."""

    cap = COUNT_CAP

    @cached_property
    def count(self):
        return self.object_list.order_by().values("pk")[: self.cap + 1].count()

    @property
    def is_capped(self) -> bool:
        return self.count > self.cap

    @property
    def more_than(self) -> str:
        """ "more than 10,000" in the language and number format of the page being drawn."""
        return gettext("more than %(count)s") % {"count": number_format(self.cap, force_grouping=True)}
