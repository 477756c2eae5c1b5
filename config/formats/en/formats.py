# The admin's one date-time format, the same in every language (config/formats/pt_BR too): year first
# reads the same to everyone, and the zone ("-03", "UTC") says which clock it is.
DATETIME_FORMAT = "Y-m-d H:i:s T"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = DATE_FORMAT
TIME_FORMAT = "H:i:s"
