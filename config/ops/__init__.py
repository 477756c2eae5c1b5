"""What operators read: metrics and their endpoint, log context, progress of long commands, and how
failures are named and retried."""
