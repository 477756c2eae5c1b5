# The admin's formats in English: the day year first, the time to the minute. The zone is not repeated in
# every value: the header names it once per page (templates/admin/base_site.html).
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = DATE_FORMAT
TIME_FORMAT = "H:i"
# The dashboard chart's day under its hours.
MONTH_DAY_FORMAT = "m-d"
