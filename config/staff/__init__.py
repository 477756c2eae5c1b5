"""Staff access to the admin: the second factor, idle sessions, the user admin's answers to a lost
phone, third-party apps' names, and the collection of what each answer read (the access trail)."""
