# The admin's formats in Brazilian Portuguese: dd/mm/aaaa and HH:MM, as Brazilian staff write them (and as
# the admin's date inputs already read them). The header names the zone once per page.
DATETIME_FORMAT = "d/m/Y H:i"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
DATE_FORMAT = "d/m/Y"
SHORT_DATE_FORMAT = DATE_FORMAT
TIME_FORMAT = "H:i"
# The dashboard chart's day under its hours.
MONTH_DAY_FORMAT = "d/m"
