"""What operators do to a deployment: inspect, verify, repair, move tenant data, fix owners.

Kept apart from the command line (`app.cli`) so that an admin API could call the same code.
Errors are `AppError`s, so such an API would render them like every other error.
"""
