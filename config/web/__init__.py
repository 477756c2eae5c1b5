"""What the admin and the API share on the web: the API's policy and front door, list filters and
pagination, CSV exports, bare machine-to-machine views, the health check."""
