"""Values we store and accept: ids in plain form or as digests, times, text columns' limits, and
query values a database would refuse."""
